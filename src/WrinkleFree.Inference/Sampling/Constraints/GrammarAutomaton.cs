namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// Matches a grammar byte by byte as a lazily built deterministic automaton. Its states are interned pushdown
/// configurations (a set of stacks, as llama.cpp's matcher keeps, plus a half-read UTF-8 sequence); a transition is computed
/// the first time it is taken and then remembered, so a grammar state seen before costs one array read per byte.
/// Not thread-safe: callers hold <see cref="Sync"/>.
/// </summary>
internal sealed partial class GrammarAutomaton
{
    public const int Dead = -1;

    // Marker in a stack set: the whole root rule has been matched (an empty stack).
    private const int Accept = -1;

    private const int Unknown = -2;

    private readonly CompiledGrammar _grammar;

    // Interned stack nodes: a node is (position of its top element, node below); Accept (-1) is the empty stack's bottom.
    private readonly List<int> _nodePos = [];
    private readonly List<int> _nodeParent = [];
    private readonly Dictionary<long, int> _nodeIds = [];

    private readonly Dictionary<SetKey, int> _setIds = [];
    private readonly List<int[]> _sets = [];

    private readonly List<State> _states = [];
    private readonly Dictionary<(int Set, int CodePoint, int Remaining, int Length), int> _stateIds = [];

    private readonly HashSet<int> _expanded = [];
    private readonly HashSet<long> _visited = [];
    private readonly Stack<(int Pos, int Parent)> _work = new();

    public GrammarAutomaton(CompiledGrammar grammar)
    {
        _grammar = grammar;
        foreach (var alt in grammar.RuleAlternatives[grammar.Root])
        {
            Expand(alt, Accept);
        }

        Start = StateFor(InternSet(), 0, 0, 0);
    }

    public object Sync { get; } = new();

    public int Start { get; }

    public int StateCount => _states.Count;

    /// <summary>True when the text that led to <paramref name="state"/> is a complete document.</summary>
    public bool IsAccepting(int state) => _states[state].Accepting;

    /// <summary>The state after <paramref name="b"/>, or <see cref="Dead"/> when no document continues that way.</summary>
    public int Next(int state, byte b)
    {
        var s = _states[state];
        s.Next ??= NewTransitions();
        var next = s.Next[b];
        if (next == Unknown)
        {
            next = Compute(s, b);
            s.Next[b] = next;
        }

        return next;
    }

    /// <summary>Feeds a whole UTF-8 string from the start state; for tests and validation.</summary>
    public int Run(ReadOnlySpan<byte> bytes)
    {
        var state = Start;
        foreach (var b in bytes)
        {
            state = Next(state, b);
            if (state == Dead)
            {
                return Dead;
            }
        }

        return state;
    }

    private static int[] NewTransitions()
    {
        var next = new int[256];
        Array.Fill(next, Unknown);
        return next;
    }

    private int Compute(State s, byte b)
    {
        if (s.Remaining > 0)
        {
            if ((b & 0xC0) != 0x80)
            {
                return Dead;
            }

            var cp = (s.CodePoint << 6) | (b & 0x3F);
            if (s.Remaining > 1)
            {
                return Pending(s.Set, cp, s.Remaining - 1, s.Length);
            }

            // Overlong forms and surrogates decode to U+FFFD, not to the character they spell: never let them through.
            return cp < MinCodePoint(s.Length) || cp is >= 0xD800 and <= 0xDFFF ? Dead : Advance(s.Set, cp);
        }

        if (b < 0x80)
        {
            return Advance(s.Set, b);
        }

        return b switch
        {
            >= 0xC2 and < 0xE0 => Pending(s.Set, b & 0x1F, 1, 2),
            >= 0xE0 and < 0xF0 => Pending(s.Set, b & 0x0F, 2, 3),
            >= 0xF0 and < 0xF5 => Pending(s.Set, b & 0x07, 3, 4),
            _ => Dead,
        };
    }

    private static int MinCodePoint(int length) => length switch
    {
        2 => 0x80,
        3 => 0x800,
        _ => 0x10000,
    };

    // A half-read character stays alive only if it can still become a valid code point that some stack can take.
    private int Pending(int set, int prefix, int remaining, int length)
    {
        var low = Math.Max(prefix << (6 * remaining), MinCodePoint(length));
        var high = Math.Min((prefix << (6 * remaining)) | ((1 << (6 * remaining)) - 1), 0x10FFFF);
        if (low > high || (low >= 0xD800 && high <= 0xDFFF))
        {
            return Dead;
        }

        foreach (var node in _sets[set])
        {
            if (node != Accept && _grammar.Classes[_grammar.Elements[_nodePos[node]].Value].Intersects(low, high))
            {
                return StateFor(set, prefix, remaining, length);
            }
        }

        return Dead;
    }

    private int Advance(int set, int codePoint)
    {
        _expanded.Clear();
        _visited.Clear();
        foreach (var node in _sets[set])
        {
            if (node == Accept)
            {
                continue;
            }

            var pos = _nodePos[node];
            if (_grammar.Classes[_grammar.Elements[pos].Value].Matches(codePoint))
            {
                Expand(pos + 1, _nodeParent[node]);
            }
        }

        return _expanded.Count == 0 ? Dead : StateFor(InternSet(), 0, 0, 0);
    }

    /// <summary>
    /// Adds to <see cref="_expanded"/> every stack whose top is a character, reachable from (pos over parent). A rule
    /// referenced last in its alternative pushes no return position (a tail call, as llama.cpp does), so right recursion
    /// such as <c>x*</c> keeps the stack flat: a string's characters all map to one state and one cached mask. An explicit
    /// work list instead of recursion keeps deep grammars off the thread's stack.
    /// </summary>
    private void Expand(int pos, int parent)
    {
        _work.Push((pos, parent));
        while (_work.TryPop(out var item))
        {
            (pos, parent) = item;
            if (!_visited.Add(((long)pos << 32) | (uint)parent))
            {
                continue;
            }

            var e = _grammar.Elements[pos];
            switch (e.Kind)
            {
                case GrammarElementKind.End:
                    if (parent == Accept)
                    {
                        _expanded.Add(Accept);
                    }
                    else
                    {
                        _work.Push((_nodePos[parent], _nodeParent[parent]));
                    }

                    break;
                case GrammarElementKind.Rule:
                    var ret = _grammar.Elements[pos + 1].Kind == GrammarElementKind.End ? parent : Node(pos + 1, parent);
                    foreach (var alt in _grammar.RuleAlternatives[e.Value])
                    {
                        _work.Push((alt, ret));
                    }

                    break;
                default:
                    _expanded.Add(Node(pos, parent));
                    break;
            }
        }
    }

    private int Node(int pos, int parent)
    {
        var key = ((long)pos << 32) | (uint)parent;
        if (!_nodeIds.TryGetValue(key, out var id))
        {
            id = _nodePos.Count;
            _nodePos.Add(pos);
            _nodeParent.Add(parent);
            _nodeIds[key] = id;
        }

        return id;
    }

    private int InternSet()
    {
        var members = _expanded.ToArray();
        Array.Sort(members);
        var key = new SetKey(members);
        if (!_setIds.TryGetValue(key, out var id))
        {
            id = _sets.Count;
            _sets.Add(members);
            _setIds[key] = id;
        }

        return id;
    }

    private int StateFor(int set, int codePoint, int remaining, int length)
    {
        if (!_stateIds.TryGetValue((set, codePoint, remaining, length), out var id))
        {
            id = _states.Count;
            _states.Add(new State(set, codePoint, remaining, length, remaining == 0 && _sets[set].AsSpan().Contains(Accept)));
            _stateIds[(set, codePoint, remaining, length)] = id;
        }

        return id;
    }

    private sealed class State(int set, int codePoint, int remaining, int length, bool accepting)
    {
        /// <summary>Bytes of the character being read (0 between characters).</summary>
        public int Length { get; } = length;

        public int Set { get; } = set;

        public int CodePoint { get; } = codePoint;

        public int Remaining { get; } = remaining;

        public bool Accepting { get; } = accepting;

        public int[]? Next { get; set; }
    }

    private readonly struct SetKey(int[] members) : IEquatable<SetKey>
    {
        private readonly int[] _members = members;

        public bool Equals(SetKey other) => _members.AsSpan().SequenceEqual(other._members);

        public override bool Equals(object? obj) => obj is SetKey k && Equals(k);

        public override int GetHashCode()
        {
            var h = new HashCode();
            h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_members.AsSpan()));
            return h.ToHashCode();
        }
    }
}
