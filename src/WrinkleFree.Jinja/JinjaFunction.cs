using WrinkleFree.Jinja.Runtime;

namespace WrinkleFree.Jinja;

/// <summary>
/// A function the caller supplies as a template variable (see <see cref="JinjaTemplate.Render"/>), called from the template
/// as <c>name(args, key=value)</c>. It returns a value the way variables are given (a .NET primitive, list, dictionary,
/// JSON element, null for None). To fail the render with a message, throw <see cref="JinjaException(string)"/>; the
/// error is reported at the call. Any other exception is reported as an internal template error.
/// </summary>
public delegate object? JinjaFunction(JinjaArguments arguments);

/// <summary>
/// The arguments of a call to a <see cref="JinjaFunction"/>. Values are template values: null (None), <see cref="bool"/>,
/// <see cref="long"/>, <see cref="double"/>, <see cref="string"/>, lists as <see cref="IReadOnlyList{T}"/> of object,
/// dicts as <see cref="IReadOnlyDictionary{TKey, TValue}"/> of string to object; anything else (undefined, namespace(),
/// functions, loop) is opaque. The collections are the template's own: read them, do not change them.
/// </summary>
public sealed class JinjaArguments
{
    internal JinjaArguments(List<object?> positional, Dictionary<string, object?> named)
    {
        Positional = positional;
        Named = named;
    }

    /// <summary>The positional arguments, in order.</summary>
    public IReadOnlyList<object?> Positional { get; }

    /// <summary>The keyword arguments (<c>key=value</c>).</summary>
    public IReadOnlyDictionary<string, object?> Named { get; }

    /// <summary>
    /// The positional argument at <paramref name="index"/> as the template would print it (Python's str(): None, True,
    /// 1.0, ['a'], an undefined value as empty text), or <paramref name="fallback"/> when fewer arguments were passed.
    /// </summary>
    public string GetString(int index, string fallback) =>
        index >= 0 && index < Positional.Count ? JinjaValues.ToStr(Positional[index]) : fallback;
}
