using WrinkleFree.ServeBench;

return args.Length == 0 ? Usage() : args[0] switch
{
    "controller" => ControllerBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: WrinkleFree.ServeBench controller [--replicas N] [--ticks N] [--seed N]");
    return 2;
}
