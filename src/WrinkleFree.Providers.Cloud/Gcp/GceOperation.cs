namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>A zone operation: what instances.insert/delete return, done when <see cref="Status"/> is DONE.</summary>
internal sealed record GceOperation
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? OperationType { get; init; }

    /// <summary>PENDING, RUNNING or DONE.</summary>
    public string? Status { get; init; }

    public string? StatusMessage { get; init; }

    public string? TargetLink { get; init; }

    public string? TargetId { get; init; }

    public string? InsertTime { get; init; }

    public string? EndTime { get; init; }

    public GceOperationError? Error { get; init; }

    public int? HttpErrorStatusCode { get; init; }

    public string? HttpErrorMessage { get; init; }
}

internal sealed record GceOperationError
{
    public List<GceOperationErrorItem>? Errors { get; init; }
}

/// <summary>One error of a failed operation: code like ZONE_RESOURCE_POOL_EXHAUSTED or QUOTA_EXCEEDED.</summary>
internal sealed record GceOperationErrorItem
{
    public string? Code { get; init; }

    public string? Message { get; init; }

    public string? Location { get; init; }
}

internal sealed record GceOperationList
{
    public List<GceOperation>? Items { get; init; }

    public string? NextPageToken { get; init; }
}

/// <summary>The JSON body of a failed HTTP call: {"error":{"code","message","errors":[{"reason","message","domain"}]}}.</summary>
internal sealed record GceErrorResponse
{
    public GceErrorBody? Error { get; init; }
}

internal sealed record GceErrorBody
{
    public int Code { get; init; }

    public string? Message { get; init; }

    public string? Status { get; init; }

    public List<GceErrorReason>? Errors { get; init; }
}

internal sealed record GceErrorReason
{
    public string? Reason { get; init; }

    public string? Message { get; init; }

    public string? Domain { get; init; }
}
