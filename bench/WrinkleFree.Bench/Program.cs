using WrinkleFree.Bench;

return args.Length == 0 ? Usage() : args[0] switch
{
    "kernels" => KernelBench.Run(args[1..]),
    "pool" => PoolBench.Run(args[1..]),
    "engine" => EngineVsLlamaCpp.Run(args[1..]),
    "profile" => StepBreakdown.Run(args[1..]),
    "structured" => StructuredOutputBench.Run(args[1..]),
    "lut" => TableLookupProbe.Run(args[1..]),
    "r4" => InterleavedRowsProbe.Run(args[1..]),
    "attention" => AttentionBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: WrinkleFree.Bench engine [--shape tiny|700m|2b4t] [--json] [--cache DIR] [--rounds N] [--peer NAME=LLAMA_BENCH[:tq2_0|iq2_bn|iq1_bn]]... [--peer-args \"-rtr 1\"]");
    Console.Error.WriteLine("       WrinkleFree.Bench profile [--threads N] [--type tq2_0|i2_s] [--cache DIR] [--chunks 1,2,4] [--context N] [--batched-only]");
    Console.Error.WriteLine("       WrinkleFree.Bench pool [--threads N]");
    Console.Error.WriteLine("       WrinkleFree.Bench attention [--context N] [--sequences N] [--cache-type f16|f32] [--resident]   (a decode step's attention on 1 thread)");
    Console.Error.WriteLine("       WrinkleFree.Bench structured [--shape tiny|700m|2b4t] [--threads N] [--rounds N] [--tokens N] [--vocab FILE] [--cache DIR]");
    Console.Error.WriteLine("       WrinkleFree.Bench lut [--threads N] [--working-set-mb N] [--tokens 16 [--slice N] [--prefetch N]]   (table-lookup ternary GEMV, or GEMM on 16 tokens, vs the I2_S kernels)");
    Console.Error.WriteLine("       WrinkleFree.Bench r4 [--threads N] [--working-set-mb N]   (row-interleaved I2_S GEMV probe vs the I2_S kernel)");
    Console.Error.WriteLine("       WrinkleFree.Bench kernels [--threads N] [--isa scalar|avx2|avxvnni|avx512|all] [--quick] [--types I2_S,TQ2_0,...] [--hugepages] [--working-set-mb N] [--head-rows N]");
    return 2;
}
