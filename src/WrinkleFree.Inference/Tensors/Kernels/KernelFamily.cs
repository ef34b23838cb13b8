using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Kernels.Avx2;
using WrinkleFree.Inference.Tensors.Kernels.Avx512;
using WrinkleFree.Inference.Tensors.Kernels.Scalar;
// Qualified as X86.Avx2: inside this namespace the bare name Avx2 is the kernels' Avx2 folder.
using X86 = System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>
/// The kernel family (instruction set) weight matrices multiply with. It is chosen when a model is loaded
/// (<see cref="Models.Model.Load(string, KernelFamily)"/>) or a matrix is created
/// (<see cref="WeightMatrix.Create(GgmlType, nint, int, int, string, KernelFamily, bool)"/>) and stays fixed for their
/// lifetime, so models with different families can run side by side in one process. Every instance is one this machine
/// runs: asking for an unsupported family throws. There is one instance per family.
/// </summary>
public sealed unsafe class KernelFamily
{
    /// <summary>
    /// Names the family <see cref="Default"/> returns (a <see cref="KernelIsa"/> name, any case); unset or empty means
    /// <see cref="Best"/>.
    /// </summary>
    public const string EnvironmentVariable = "WF_KERNEL_ISA";

    // Indexed by KernelIsa; initialized before the properties below, which read it.
    private static readonly KernelFamily[] s_all = [.. Enum.GetValues<KernelIsa>().Select(isa => new KernelFamily(isa))];

    private static KernelFamily? s_default;

    private KernelFamily(KernelIsa isa) => Isa = isa;

    public KernelIsa Isa { get; }

    /// <summary>The plain reference kernels, which every machine runs.</summary>
    public static KernelFamily Scalar => s_all[(int)KernelIsa.Scalar];

    /// <summary>Every family this machine can run, scalar first.</summary>
    public static IReadOnlyList<KernelFamily> Supported { get; } = [.. s_all.Where(f => IsSupported(f.Isa))];

    /// <summary>
    /// The fastest family this machine runs: AVX-512, else AVX-VNNI (AVX2 with 256-bit vpdpbusd, faster than plain AVX2 in
    /// every kernel since its decode and batch loops keep eight accumulator chains: docs/benchmarks.md), else AVX2, else
    /// scalar.
    /// </summary>
    public static KernelFamily Best { get; } = s_all[(int)(
        IsSupported(KernelIsa.Avx512) ? KernelIsa.Avx512
        : IsSupported(KernelIsa.AvxVnni) ? KernelIsa.AvxVnni
        : IsSupported(KernelIsa.Avx2) ? KernelIsa.Avx2
        : KernelIsa.Scalar)];

    /// <summary>
    /// The family models and matrices get when none is passed: the one <see cref="EnvironmentVariable"/> names, else
    /// <see cref="Best"/>. Read once; a name that is unknown or not supported here is refused, not replaced.
    /// </summary>
    public static KernelFamily Default => s_default ??= FromSetting(Environment.GetEnvironmentVariable(EnvironmentVariable));

    public static bool IsSupported(KernelIsa isa) => isa switch
    {
        KernelIsa.Scalar => true,
        KernelIsa.Avx2 => X86.Avx2.IsSupported && X86.Fma.IsSupported,
        KernelIsa.AvxVnni => X86.Avx2.IsSupported && X86.Fma.IsSupported && X86.AvxVnni.IsSupported,
        KernelIsa.Avx512 => X86.Avx512BW.IsSupported && X86.Avx512F.VL.IsSupported,
        _ => false,
    };

    /// <summary>The family of <paramref name="isa"/>; <see cref="NotSupportedException"/> when this machine cannot run it.</summary>
    public static KernelFamily Get(KernelIsa isa) =>
        IsSupported(isa) ? s_all[(int)isa] : throw new NotSupportedException(Refusal($"kernel family {isa} is not supported by this CPU"));

    /// <summary>
    /// The family named <paramref name="name"/> (a <see cref="KernelIsa"/> name, any case); <see cref="NotSupportedException"/>
    /// when the name is unknown or this machine cannot run it.
    /// </summary>
    public static KernelFamily Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var family in s_all)
        {
            if (string.Equals(family.Isa.ToString(), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return Get(family.Isa);
            }
        }

        throw new NotSupportedException(Refusal($"unknown kernel family '{name}'"));
    }

    public override string ToString() => Isa.ToString();

    /// <summary>What <see cref="Default"/> makes of the environment variable's <paramref name="value"/>.</summary>
    internal static KernelFamily FromSetting(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Best;
        }

        try
        {
            return Parse(value);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{EnvironmentVariable}={value}: {e.Message}", e);
        }
    }

    /// <summary>The kernel this family multiplies <paramref name="type"/> ternary weights with.</summary>
    internal delegate*<in TernaryArgs, int, int, void> Ternary(GgmlType type) => (type, Isa) switch
    {
        (GgmlType.I2_S, KernelIsa.Avx512) => &TernaryGemmAvx512.I2S,
        (GgmlType.I2_S, KernelIsa.AvxVnni) => &TernaryAvx2.I2SVnni,
        (GgmlType.I2_S, KernelIsa.Avx2) => &TernaryAvx2.I2S,
        (GgmlType.I2_S, _) => &ScalarKernels.I2S,
        (GgmlType.TQ2_0, KernelIsa.Avx512) => &TernaryAvx512.TQ2,
        (GgmlType.TQ2_0, KernelIsa.AvxVnni) => &TernaryAvx2.TQ2Vnni,
        (GgmlType.TQ2_0, KernelIsa.Avx2) => &TernaryAvx2.TQ2,
        (GgmlType.TQ2_0, _) => &ScalarKernels.TQ2,
        (GgmlType.TQ1_0, KernelIsa.Avx512) => &TernaryAvx512.TQ1,
        _ => &ScalarKernels.TQ1,
    };

    /// <summary>
    /// The layout this family's Q8_0 kernel reads: the eight-row interleaved copy on every SIMD family, the tensor's own
    /// blocks for the scalar one.
    /// </summary>
    internal Q8Layout Q8Layout => Isa == KernelIsa.Scalar ? Q8Layout.Blocks : Q8Layout.Interleaved;

    /// <summary>
    /// The Q8_0 kernel for <paramref name="layout"/>; <see cref="Q8Layout.Blocks"/> gives this family's block kernel. On the
    /// interleaved copy: vpdpbusd where the CPU has AVX-VNNI (and the family may use it), else vpmaddubsw (512-bit on
    /// AVX-512, since .NET 10 exposes no 512-bit vpdpbusd; 256-bit on AVX2); <paramref name="vnni"/> false picks
    /// vpmaddubsw on any AVX-512 host (the kernels bench compares them).
    /// </summary>
    internal delegate*<in DenseArgs, int, int, void> Q8(Q8Layout layout, bool? vnni = null) => layout switch
    {
        Q8Layout.Interleaved when Isa == KernelIsa.Avx512 && !(vnni ?? IsSupported(KernelIsa.AvxVnni)) => &Q8Interleaved512.Multiply,
        Q8Layout.Interleaved when Isa == KernelIsa.Avx2 => &Q8Interleaved256.Multiply,
        Q8Layout.Interleaved => &Q8Vnni8.Multiply,
        _ => Isa switch
        {
            KernelIsa.Avx512 or KernelIsa.AvxVnni when IsSupported(KernelIsa.AvxVnni) => &Q8Avx2.MultiplyVnni,
            KernelIsa.Avx512 or KernelIsa.AvxVnni or KernelIsa.Avx2 => &Q8Avx2.Multiply,
            _ => &ScalarKernels.Q8_0,
        },
    };

    /// <summary>
    /// The kernel this family multiplies <paramref name="type"/> (Q8_0, F32, F16, BF16) weights with. Q8_0 kernels read
    /// the layout <see cref="Q8Layout"/> names (<see cref="Q8Interleaved"/> kernels take groups of eight rows as items).
    /// </summary>
    internal delegate*<in DenseArgs, int, int, void> Dense(GgmlType type) => (type, Isa) switch
    {
        (GgmlType.Q8_0, _) => Q8(Q8Layout),
        (GgmlType.F32, KernelIsa.Avx512) => &FloatAvx512.F32,
        (GgmlType.F32, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &FloatAvx2.F32,
        (GgmlType.F32, _) => &ScalarKernels.F32,
        (GgmlType.F16, KernelIsa.Avx512) => &FloatAvx512.F16,
        (GgmlType.F16, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &FloatAvx2.F16,
        (GgmlType.F16, _) => &ScalarKernels.F16,
        (GgmlType.BF16, KernelIsa.Avx512) => &FloatAvx512.BF16,
        (GgmlType.BF16, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &FloatAvx2.BF16,
        _ => &ScalarKernels.BF16,
    };

    private static string Refusal(string what) => $"{what}; supported here: {string.Join(", ", Supported)}";
}
