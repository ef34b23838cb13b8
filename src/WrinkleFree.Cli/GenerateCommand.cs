using System.CommandLine;
using System.Text.Json;
using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Cli;

/// <summary><c>wf generate</c>: run one prompt through the engine and print the completion (or JSON with ids and speed).</summary>
internal sealed class GenerateCommand(CliContext context)
{
    public void Register(RootCommand root)
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "GGUF model file.", Required = true };
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text.", Required = true };
        var tokens = new Option<int>("-n", "--max-tokens") { Description = "Tokens to generate.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy.", DefaultValueFactory = _ => 0f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off)." };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed: the same seed and prompt give the same tokens." };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating past end-of-text tokens." };
        var mlock = new Option<bool>("--mlock")
        {
            Description = "Lock the weights in RAM (needs RLIMIT_MEMLOCK); default from MLOCK=true.",
            DefaultValueFactory = _ => string.Equals(Environment.GetEnvironmentVariable("MLOCK"), "true", StringComparison.OrdinalIgnoreCase)
                || Environment.GetEnvironmentVariable("MLOCK") == "1",
        };
        var noWarmUp = new Option<bool>("--no-warmup")
        {
            Description = "Skip the warm-up forward passes at load (they let the prompt run compiled code at warm speed; without them the first forward pays the JIT).",
        };
        var json = new Option<bool>("--json") { Description = "Print {text, token_ids, prompt_token_ids, tokens_per_second, prompt_tokens_per_second, warmup_seconds} as JSON." };
        var cmd = new Command("generate", "Generate text from a prompt with a GGUF model on this machine's CPU.")
        {
            model, prompt, tokens, temperature, topK, topP, seed, threads, ignoreEos, mlock, noWarmUp, json,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            using var m = CliErrors.LoadModel(parse.GetValue(model)!.FullName, context.Error);
            if (m is null)
            {
                return ExitCodes.InvalidInput;
            }

            if (parse.GetValue(mlock) && !CliErrors.TryLock(m, context.Error))
            {
                return ExitCodes.InvalidInput;
            }

            using var engine = new InferenceEngine(m, new EngineOptions { Threads = parse.GetValue(threads), MaxSequences = 1, MaxBatchTokens = 128, PrefillChunk = 128, WarmUp = !parse.GetValue(noWarmUp) });
            var promptIds = m.Tokenizer.Encode(parse.GetValue(prompt)!);
            var request = new GenerationRequest
            {
                PromptTokens = promptIds,
                MaxTokens = parse.GetValue(tokens),
                IgnoreEos = parse.GetValue(ignoreEos),
                Sampling = new SamplingOptions
                {
                    Temperature = parse.GetValue(temperature),
                    TopK = parse.GetValue(topK),
                    TopP = parse.GetValue(topP),
                    Seed = parse.GetValue(seed),
                },
            };
            var asJson = parse.GetValue(json);
            var ids = new List<int>();
            var text = new System.Text.StringBuilder();
            var started = context.Time.GetTimestamp();
            double firstTokenAt = 0;
            try
            {
                await foreach (var u in engine.GenerateAsync(request, ct))
                {
                    if (ids.Count == 0)
                    {
                        firstTokenAt = context.Time.GetElapsedTime(started).TotalSeconds;
                    }

                    if (u.TokenId >= 0)
                    {
                        ids.Add(u.TokenId);
                    }

                    text.Append(u.Text);
                    if (!asJson)
                    {
                        context.Out.Write(u.Text);
                    }
                }
            }
            catch (Exception e) when (e is ArgumentException or ContextLengthExceededException)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C: what was generated so far is on the screen; end its line.
                if (!asJson)
                {
                    context.Out.WriteLine();
                }

                return ExitCodes.Cancelled;
            }

            var total = context.Time.GetElapsedTime(started).TotalSeconds;
            // Decode speed excludes the prompt: tokens after the first over the time after the first.
            var decodeTps = ids.Count > 1 ? (ids.Count - 1) / (total - firstTokenAt) : 0;
            if (asJson)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    text = text.ToString(),
                    token_ids = ids,
                    prompt_token_ids = promptIds,
                    tokens_per_second = Math.Round(decodeTps, 2),
                    prompt_tokens_per_second = Math.Round(promptIds.Length / firstTokenAt, 2),
                    warmup_seconds = Math.Round(engine.WarmUpTime.TotalSeconds, 3),
                }, CliJson.Options));
            }
            else
            {
                context.Out.WriteLine();
                context.Error.WriteLine($"[{promptIds.Length} prompt tokens in {firstTokenAt * 1000:F0} ms, {ids.Count} tokens at {decodeTps:F1} tokens/s]");
            }

            return ExitCodes.Success;
        });
        root.Subcommands.Add(cmd);
    }
}
