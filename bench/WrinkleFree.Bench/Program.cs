using WrinkleFree.Bench;

return args.Length > 0 && args[0] == "kernels"
    ? KernelBench.Run(args[1..])
    : Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: WrinkleFree.Bench kernels [--threads N] [--isa scalar|avx2|avxvnni|avx512|all] [--quick] [--types I2_S,TQ2_0,...]");
    return 2;
}
