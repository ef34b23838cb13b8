namespace WrinkleFree.Inference.Tests.Tokenization;

/// <summary>Multilingual inputs shared by the reference, round-trip and streaming tests.</summary>
internal static class SampleTexts
{
    public static readonly string[] All =
    [
        "Hello world",
        "The quick brown fox jumps over the lazy dog. It's 5 o'clock; we'll see, they've gone, I'm here, you'd know.",
        "Grüße aus München! Die Straße ist naß, und Äpfel, Öl und Übermut kosten 3,50 €.",
        "我们今天去公园散步，天气非常好。人工智能正在改变世界。",
        "日本語のテキストです。カタカナとひらがな、そして漢字を混ぜます。",
        "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇩🇪 ❤️ ✅ and 🦙🦙🦙",
        "def f(x):\n\treturn x ** 2  # square\n\nprint([f(i) for i in range(10)])\n",
        "if (a != b && c <= 0x1F) { return -1; } // done\r\n",
        "Numbers: 1 12 123 1234 12345 123456 3.14159 -42 1e-5 1,000,000 ٣٤٥ ²³",
        "   leading spaces, \t\ttabs,\n\n\nnewlines and trailing   ",
        "Mixed: naïve café résumé coöperate — “quotes” ‘single’ «guillemets» …",
        "Русский текст и العربية and ελληνικά and हिन्दी and 한국어",
        " ",
        "",
        "\n",
    ];
}
