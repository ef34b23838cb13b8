using System.Text;
using System.Text.Json;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

public sealed class PrefixAffinityPolicyTests
{
    private static readonly string[] Ids = ["r0", "r1", "r2", "r3"];

    [Fact]
    public void Pick_SameKeyIdleReplicas_AlwaysTheSameReplicaAndKeysSpreadOverAll()
    {
        var policy = new PrefixAffinityPolicy();
        var used = new HashSet<int>();
        for (ulong k = 0; k < 200; k++)
        {
            var key = PromptPrefixKey.Finish(k);
            var first = policy.Pick(Ids, [0, 0, 0, 0], key);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(first, policy.Pick(Ids, [0, 0, 0, 0], key));
            }

            // The choice follows the replica id, not its position in the controller's list.
            string[] reversed = [.. Ids.Reverse()];
            Assert.Equal(Ids[first], reversed[policy.Pick(reversed, [0, 0, 0, 0], key)]);
            used.Add(first);
        }

        Assert.Equal(4, used.Count);
    }

    [Fact]
    public void Pick_HotKeyAboveTheLoadBound_MovesToTheNextReplicaOnTheRing()
    {
        var policy = new PrefixAffinityPolicy(epsilon: 0.25);
        var key = PromptPrefixKey.Finish(42);
        var home = policy.Pick(Ids, [0, 0, 0, 0], key);
        var loads = new int[4];
        var picks = new List<int>();
        // Twelve requests with the same prefix, none finishing: the bound ceil(1.25 x (in flight + 1) / 4) spreads them.
        for (var i = 0; i < 12; i++)
        {
            var pick = policy.Pick(Ids, loads, key);
            picks.Add(pick);
            loads[pick]++;
        }

        Assert.Equal(home, picks[0]);
        Assert.NotEqual(home, picks[1]);
        Assert.True(picks.Distinct().Count() > 1);
        var total = 12;
        Assert.All(loads, l => Assert.True(l <= Math.Ceiling(1.25 * total / 4), $"loads {string.Join(",", loads)}"));
        // Below the bound the home replica is kept even when it is not the least loaded.
        var busier = new[] { 2, 2, 2, 2 };
        busier[home] = 3;
        Assert.Equal(home, policy.Pick(Ids, busier, key));
    }

    [Fact]
    public void Pick_ReplicaRemoved_OnlyItsKeysMove()
    {
        var policy = new PrefixAffinityPolicy();
        string[] fewer = ["r0", "r1", "r3"];
        var moved = 0;
        for (ulong k = 0; k < 2000; k++)
        {
            var key = PromptPrefixKey.Finish(k * 7919);
            var before = Ids[policy.Pick(Ids, [0, 0, 0, 0], key)];
            var after = fewer[policy.Pick(fewer, [0, 0, 0], key)];
            if (before != "r2")
            {
                Assert.Equal(before, after);
            }
            else
            {
                moved++;
            }
        }

        // Roughly a quarter of the keys lived on r2; virtual nodes keep the share near 1/n.
        Assert.InRange(moved, 300, 700);
    }

    [Fact]
    public void Pick_NoKey_FallsBackToLeastRequests()
    {
        var policy = LoadBalancingPolicyFactory.Create(LoadBalancingPolicyNames.PrefixAffinity, new Random(1));
        Assert.Equal(LoadBalancingPolicyNames.PrefixAffinity, policy.Name);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(2, policy.Pick([3, 1, 0, 2]));
        }
    }

    [Fact]
    public void Compute_ChatMessages_SameLeadingContentSameKeyOtherwiseDifferent()
    {
        var system = new string('s', 2000);
        var a = Key(Chat(system, "hello"), 1024);
        Assert.NotNull(a);
        Assert.Equal(a, Key(Chat(system, "a different question"), 1024));
        Assert.NotEqual(a, Key(Chat("another tenant " + system, "hello"), 1024));
        // Within the budget the user's turn counts: two conversations with a short system prompt part ways.
        Assert.NotEqual(Key(Chat("be brief", "hello"), 1024), Key(Chat("be brief", "goodbye"), 1024));
        // Fields other than the messages' text do not matter.
        Assert.Equal(Key(Chat("be brief", "hello"), 1024), Key(Chat("be brief", "hello", temperature: 0.9), 1024));
    }

    [Fact]
    public void Compute_CompletionsPrompt_StringOrTokenIdsOrNone()
    {
        Assert.Equal(Key("""{"model":"m","prompt":"Once upon a time"}""", 1024), Key("""{"prompt":"Once upon a time","max_tokens":5}""", 1024));
        Assert.NotEqual(Key("""{"prompt":"Once upon a time"}""", 1024), Key("""{"prompt":"Twice upon a time"}""", 1024));
        Assert.NotNull(Key("""{"prompt":[1,2,3]}""", 1024));
        Assert.NotEqual(Key("""{"prompt":["ab","c"]}""", 1024), Key("""{"prompt":["a","bc"]}""", 1024));
        Assert.Null(Key("""{"input":"no prompt here"}""", 1024));
        Assert.Null(Key("not json", 1024));
        Assert.Null(Key("", 1024));
    }

    [Fact]
    public void Compute_LargeBody_KeysOnItsStartOnly()
    {
        var huge = new string('x', 256 * 1024);
        var key = Key(JsonSerializer.Serialize(new { prompt = "shared start " + huge }), 64);
        Assert.NotNull(key);
        Assert.Equal(key, Key(JsonSerializer.Serialize(new { prompt = "shared start " + huge[..100] }), 64));
    }

    private static ulong? Key(string body, int prefixBytes) => PromptPrefixKey.Compute(Encoding.UTF8.GetBytes(body), prefixBytes);

    internal static string Chat(string system, string user, double temperature = 0) => JsonSerializer.Serialize(new
    {
        model = "m",
        temperature,
        messages = new object[]
        {
            new { role = "system", content = system },
            new { role = "user", content = new object[] { new { type = "text", text = user } } },
        },
    });
}
