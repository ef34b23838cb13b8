using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Placement;

public sealed class SelectionTests
{
    private static readonly Comparison<int> Ascending = static (a, b) => a.CompareTo(b);

    [Theory]
    [InlineData(1, 0)]
    [InlineData(50, 1)]
    [InlineData(1000, 10)]
    [InlineData(1000, 999)]
    [InlineData(1000, 1000)]
    [InlineData(1000, 5000)]
    public void SmallestFirst_RandomAndSortedInputs_MatchesFullSortPrefix(int n, int k)
    {
        var rng = new Random(n * 31 + k);
        int[][] inputs =
        [
            [.. Enumerable.Range(0, n).Select(_ => rng.Next(n / 3 + 1))],
            [.. Enumerable.Range(0, n)],
            [.. Enumerable.Range(0, n).Reverse()],
            [.. Enumerable.Repeat(7, n)],
        ];
        foreach (var input in inputs)
        {
            var expected = input.Order().Take(k).ToArray();
            var actual = (int[])input.Clone();

            Selection.SmallestFirst(actual.AsSpan(), k, Ascending);

            Assert.Equal(expected, actual.Take(k));
            Assert.Equal(input.Order(), actual.Order());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(999)]
    public void Nth_EveryRank_EqualsSortedElement(int n)
    {
        var rng = new Random(n);
        var input = Enumerable.Range(0, n).Select(_ => rng.Next(100)).ToArray();
        var sorted = input.Order().ToArray();
        for (var i = 0; i < n; i += Math.Max(1, n / 50))
            Assert.Equal(sorted[i], Selection.Nth(((int[])input.Clone()).AsSpan(), i, Ascending));
    }
}
