namespace WrinkleFree.Inference.Sampling.Constraints;

internal sealed partial class GbnfParser
{
    private CompiledGrammar Compile(string root)
    {
        foreach (var (id, at) in _firstReference)
        {
            if (_rules[id] is null)
            {
                throw ErrorAt(at, $"rule '{_names[id]}' is used but never defined");
            }
        }

        if (!_ids.TryGetValue(root, out var rootId) || _rules[rootId] is null)
        {
            throw new GrammarException($"the grammar has no '{root}' rule to start from");
        }

        var rules = _rules.Select(r => r!).ToArray();
        CheckLeftRecursion(rules);

        var elements = new List<GrammarElement>();
        var alternatives = new int[rules.Length][];
        for (var r = 0; r < rules.Length; r++)
        {
            alternatives[r] = new int[rules[r].Count];
            for (var a = 0; a < rules[r].Count; a++)
            {
                alternatives[r][a] = elements.Count;
                elements.AddRange(rules[r][a]);
                elements.Add(GrammarElement.End);
            }
        }

        return new CompiledGrammar([.. elements], alternatives, [.. _classes], [.. _names], rootId);
    }

    /// <summary>
    /// A rule that can reach itself without consuming a character would make the matcher expand forever; llama.cpp
    /// rejects it too. Left corners are found past nullable rules (a rule that can match the empty string).
    /// </summary>
    private void CheckLeftRecursion(List<List<GrammarElement>>[] rules)
    {
        var nullable = new bool[rules.Length];
        for (var changed = true; changed;)
        {
            changed = false;
            for (var r = 0; r < rules.Length; r++)
            {
                if (!nullable[r] && rules[r].Any(alt => alt.All(e => e.Kind == GrammarElementKind.Rule && nullable[e.Value])))
                {
                    nullable[r] = changed = true;
                }
            }
        }

        // 0 = unvisited, 1 = on the DFS path, 2 = done.
        var mark = new byte[rules.Length];
        for (var r = 0; r < rules.Length; r++)
        {
            Visit(r);
        }

        void Visit(int r)
        {
            if (mark[r] == 2)
            {
                return;
            }

            if (mark[r] == 1)
            {
                throw new GrammarException($"rule '{_names[r]}' is left-recursive (it can reach itself without matching a character); rewrite it right-recursively");
            }

            mark[r] = 1;
            foreach (var alt in rules[r])
            {
                foreach (var e in alt)
                {
                    if (e.Kind != GrammarElementKind.Rule)
                    {
                        break;
                    }

                    Visit(e.Value);
                    if (!nullable[e.Value])
                    {
                        break;
                    }
                }
            }

            mark[r] = 2;
        }
    }
}
