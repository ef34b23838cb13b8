namespace WrinkleFree.Jinja.Runtime;

/// <summary>The built-in global functions every render sees under the caller's variables: range, namespace, dict.</summary>
internal static class JinjaGlobals
{
    // range() materialises a list; a bound keeps a hostile template from allocating without limit.
    private const long MaxRange = 100_000;

    public static JinjaScope Create()
    {
        var globals = new JinjaScope(null);
        globals.Set("range", new JinjaCallable("range", (args, _) => Range(args)));
        globals.Set("namespace", new JinjaCallable("namespace", (args, kwargs) =>
        {
            var ns = new JinjaNamespace();
            if (args.Count > 0 && args[0] is OrderedDictionary<string, object?> initial)
            {
                foreach (var (k, v) in initial)
                {
                    ns.Attributes[k] = v;
                }
            }

            foreach (var (k, v) in kwargs)
            {
                ns.Attributes[k] = v;
            }

            return ns;
        }));
        globals.Set("dict", new JinjaCallable("dict", (_, kwargs) =>
        {
            var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (k, v) in kwargs)
            {
                dict[k] = v;
            }

            return dict;
        }));
        return globals;
    }

    private static List<object?> Range(List<object?> args)
    {
        var (start, stop, step) = args.Count switch
        {
            1 => (0L, JinjaValues.AsLong(args[0]), 1L),
            2 => (JinjaValues.AsLong(args[0]), JinjaValues.AsLong(args[1]), 1L),
            3 => (JinjaValues.AsLong(args[0]), JinjaValues.AsLong(args[1]), JinjaValues.AsLong(args[2])),
            _ => throw new JinjaError("range expected 1 to 3 arguments"),
        };
        if (step == 0)
        {
            throw new JinjaError("range() arg 3 must not be zero");
        }

        var result = new List<object?>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= MaxRange)
            {
                // The wording predates this project's split from the chat-template layer; kept so errors read as before.
                throw new JinjaError($"range() is limited to {MaxRange} items in chat templates");
            }

            result.Add(i);
        }

        return result;
    }
}
