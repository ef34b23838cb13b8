using WrinkleFree.ServiceBench;

return args.Length == 0 ? Usage() : args[0] switch
{
    "controller" => ControllerBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: WrinkleFree.ServiceBench controller [--replicas N] [--ticks N] [--seed N]");
    return 2;
}
