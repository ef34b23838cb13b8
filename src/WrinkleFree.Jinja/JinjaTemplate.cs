using WrinkleFree.Jinja.Runtime;
using WrinkleFree.Jinja.Syntax;

namespace WrinkleFree.Jinja;

/// <summary>
/// A parsed Jinja template. The dialect is the one chat templates are written in (transformers' environment):
/// trim_blocks and lstrip_blocks on, Jinja's default undefined (prints as nothing, is falsy, fails in arithmetic and
/// calls), Python semantics for values, <c>tojson</c> as transformers defines it, and the globals <c>range</c>,
/// <c>namespace</c> and <c>dict</c>. Parsing and rendering are bounded (nesting, steps, output size), so a hostile
/// template fails with a <see cref="JinjaException"/> rather than hanging or exhausting memory. An instance is immutable
/// and may be rendered concurrently.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<JinjaStmt> _body;

    private JinjaTemplate(string source, IReadOnlyList<JinjaStmt> body)
    {
        Source = source;
        _body = body;
    }

    /// <summary>The template text this instance was parsed from.</summary>
    public string Source { get; }

    /// <summary>Parses a template; a syntax error throws <see cref="JinjaException"/> naming its line and column.</summary>
    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Guard(() => new JinjaTemplate(source, JinjaParser.Parse(source)));
    }

    /// <summary>
    /// Renders the template. <paramref name="variables"/> are the names in scope: .NET primitives (integers, floating
    /// point numbers, bool, string, char; enums and dates as text), null (None), dictionaries, other enumerables (lists),
    /// System.Text.Json elements and nodes, and <see cref="JinjaFunction"/> delegates (callable from the template). They
    /// shadow the built-in globals of the same name. A name not given is undefined. Every error throws
    /// <see cref="JinjaException"/> with the position of the construct at fault.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?>? variables = null) => Guard(() =>
    {
        var scope = new JinjaScope(JinjaGlobals.Create());
        if (variables is not null)
        {
            foreach (var (name, value) in variables)
            {
                try
                {
                    scope.Set(name, JinjaValues.FromClr(value, name: name));
                }
                catch (JinjaError e)
                {
                    throw new JinjaException($"template variable '{name}': {e.Message}", 1, 1);
                }
            }
        }

        return JinjaRenderer.Render(_body, scope);
    });

    // Any failure inside the interpreter must reach the caller as a template problem (for a server, a bad request rather
    // than a crash); the fuzz tests check that only deliberate errors occur.
    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (JinjaException e) when (e.HasPosition)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new JinjaException($"internal template error: {e.GetType().Name}: {e.Message}", 1, 1, e);
        }
    }
}
