using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Wf.Training;

/// <summary>
/// Typed options for the training stages, whose values arrive from people and from task files (<c>wf jobs</c> passes a
/// task's <c>train:</c> settings through as <c>--key value</c>). A bad value is a parse error that names the option and
/// the value ("--steps 'many' is not a valid integer", "--steps must be positive, got 0"), which <c>wf train</c> reports
/// as a configuration error (<see cref="WrinkleFree.Cli.ExitCodes.ConfigurationError"/>).
/// </summary>
/// <remarks>
/// The range check runs in the option's parser rather than in <see cref="Option.Validators"/>: System.CommandLine 2.0
/// runs an option's validators before converting its value, and reading the value there throws when the parser has
/// rejected it, so a validator cannot tell "not a number" from "out of range" without parsing again.
/// </remarks>
internal static class TrainOptions
{
    /// <summary>A number option with a default; values where <paramref name="valid"/> is false are rejected as "NAME must be REQUIREMENT".</summary>
    public static Option<T> Number<T>(string name, string description, T defaultValue, Func<T, bool> valid, string requirement)
        where T : struct, INumber<T>
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result => Parse(result, name, valid, requirement) ?? defaultValue;
        return option;
    }

    /// <summary>A number option without a default: null when not given.</summary>
    public static Option<T?> OptionalNumber<T>(string name, string description, Func<T, bool> valid, string requirement)
        where T : struct, INumber<T>
    {
        var option = new Option<T?>(name) { Description = description };
        option.CustomParser = result => Parse(result, name, valid, requirement);
        return option;
    }

    /// <summary>
    /// One of a few named values (<paramref name="choices"/>), matched in either case: task files spell them as SkyPilot
    /// does (COPY, MOUNT_CACHED), and --help shows enum defaults capitalised.
    /// </summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue, params (string Name, T Value)[] choices)
    {
        var names = choices.Select(c => c.Name).ToArray();
        var option = new Option<T>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = string.Join('|', names),
        };
        option.CustomParser = result =>
        {
            var token = result.Tokens[0].Value;
            foreach (var (choice, value) in choices)
            {
                if (string.Equals(choice, token, StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }

            result.AddError($"{name} '{token}': use {string.Join(", ", names[..^1])} or {names[^1]}");
            return defaultValue;
        };
        option.CompletionSources.Add(names);
        return option;
    }

    /// <summary>A bool option (a flag; task files may also say <c>--flag true</c>).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>A text option (paths, URLs, data specs), optionally required.</summary>
    public static Option<string> Text(string name, string description, string? defaultValue = null, bool required = false)
    {
        var option = new Option<string>(name) { Description = description, Required = required };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        return option;
    }

    private static T? Parse<T>(ArgumentResult result, string name, Func<T, bool> valid, string requirement)
        where T : struct, INumber<T>
    {
        var token = result.Tokens[0].Value;
        if (!T.TryParse(token, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{name} '{token}' is not a valid {(typeof(T) == typeof(double) ? "number" : "integer")}");
            return null;
        }

        if (!valid(value))
        {
            result.AddError($"{name} must be {requirement}, got {token}");
            return null;
        }

        return value;
    }
}
