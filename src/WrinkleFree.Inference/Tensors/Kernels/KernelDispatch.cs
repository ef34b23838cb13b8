// Qualified as X86.Avx2: inside this namespace the bare name Avx2 is the kernels' Avx2 folder.
using X86 = System.Runtime.Intrinsics.X86;

namespace WrinkleFree.Inference.Tensors.Kernels;

/// <summary>Chooses the kernel family once at start-up; tests and the bench may pin another supported one.</summary>
internal static class KernelDispatch
{
    public static KernelIsa Best { get; } = Detect();

    /// <summary>The family new multiplies use; settable so the bench can compare families in one run.</summary>
    public static KernelIsa Current { get; set; } = Best;

    public static bool IsSupported(KernelIsa isa) => isa switch
    {
        KernelIsa.Scalar => true,
        KernelIsa.Avx2 => X86.Avx2.IsSupported && X86.Fma.IsSupported,
        KernelIsa.AvxVnni => X86.Avx2.IsSupported && X86.Fma.IsSupported && X86.AvxVnni.IsSupported,
        KernelIsa.Avx512 => X86.Avx512BW.IsSupported && X86.Avx512F.VL.IsSupported,
        _ => false,
    };

    /// <summary>Every family this machine can run, scalar first.</summary>
    public static IReadOnlyList<KernelIsa> Supported { get; } =
        Enum.GetValues<KernelIsa>().Where(IsSupported).ToArray();

    private static KernelIsa Detect()
    {
        var forced = Environment.GetEnvironmentVariable("WF_KERNEL_ISA");
        if (forced != null && Enum.TryParse<KernelIsa>(forced, ignoreCase: true, out var isa) && IsSupported(isa))
        {
            return isa;
        }

        return IsSupported(KernelIsa.Avx512) ? KernelIsa.Avx512 : IsSupported(KernelIsa.Avx2) ? KernelIsa.Avx2 : KernelIsa.Scalar;
    }
}
