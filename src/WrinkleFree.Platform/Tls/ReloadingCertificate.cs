namespace WrinkleFree.Platform.Tls;

/// <summary>
/// A PEM certificate and key pair read once and served from memory, reloaded when the files change: every handshake asks
/// for <see cref="Current"/>, which looks at the files' modification times and lengths at most every
/// <see cref="CheckInterval"/> and loads a changed pair once it has stayed the same for <see cref="Debounce"/> (so a
/// certificate written a moment before its key is not read half-way). A new pair that cannot be used keeps the old one
/// serving and is reported once through the error callback, with a message naming the file.
/// </summary>
public sealed class ReloadingCertificate
{
    /// <summary>How often the files are looked at, at most.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a change must stay unchanged before it is loaded.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _time;
    private readonly Action<string>? _onError;
    private readonly Action<LoadedCertificate>? _onReloaded;
    private readonly Lock _gate = new();
    private LoadedCertificate _current;
    private Stamp _loaded;
    private Stamp _pending;
    private long _pendingSince;
    private Stamp _failed;
    private long _lastCheck;

    /// <summary>Loads the pair; throws <see cref="TlsFileException"/> when it cannot be used now.</summary>
    /// <param name="onError">Told, once per broken version of the files, why a change was not loaded.</param>
    /// <param name="onReloaded">Told of each certificate loaded after the first.</param>
    public ReloadingCertificate(string certFile, string keyFile, TimeProvider time, Action<string>? onError = null, Action<LoadedCertificate>? onReloaded = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        (CertFile, KeyFile, _time, _onError, _onReloaded) = (certFile, keyFile, time, onError, onReloaded);
        _loaded = Stamp.Of(certFile, keyFile);
        _current = PemCertificate.Load(certFile, keyFile, time.GetUtcNow());
        _lastCheck = time.GetTimestamp();
    }

    public string CertFile { get; }

    public string KeyFile { get; }

    /// <summary>The pair to use for the next handshake.</summary>
    public LoadedCertificate Current
    {
        get
        {
            var now = _time.GetTimestamp();
            if (_time.GetElapsedTime(Volatile.Read(ref _lastCheck), now) >= CheckInterval)
            {
                Check(now, force: false);
            }

            return Volatile.Read(ref _current);
        }
    }

    /// <summary>Loads the files now if they changed since the last load, without waiting for the debounce; returns whether a new pair is in use.</summary>
    public bool ReloadNow() => Check(_time.GetTimestamp(), force: true);

    private bool Check(long now, bool force)
    {
        lock (_gate)
        {
            Volatile.Write(ref _lastCheck, now);
            var stamp = Stamp.Of(CertFile, KeyFile);
            if (stamp == _loaded || (!force && stamp == _failed))
            {
                return false;
            }

            if (!force && stamp != _pending)
            {
                (_pending, _pendingSince) = (stamp, now);
                return false;
            }

            if (!force && _time.GetElapsedTime(_pendingSince, now) < Debounce)
            {
                return false;
            }

            try
            {
                var next = PemCertificate.Load(CertFile, KeyFile, _time.GetUtcNow());
                // The old certificate is not disposed: handshakes in progress may still hold it.
                Volatile.Write(ref _current, next);
                (_loaded, _failed) = (stamp, default);
                _onReloaded?.Invoke(next);
                return true;
            }
            catch (Exception e) when (e is TlsFileException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                // Whatever the new files hold, the handshake that noticed them goes on with the old pair.
                _failed = stamp;
                _onError?.Invoke(e is TlsFileException ? e.Message : $"'{CertFile}' / '{KeyFile}': {e.Message}");
                return false;
            }
        }
    }

    /// <summary>What tells a changed file: its modification time and length, for both files.</summary>
    private readonly record struct Stamp(DateTime CertTime, long CertLength, DateTime KeyTime, long KeyLength)
    {
        public static Stamp Of(string certFile, string keyFile)
        {
            var (certTime, certLength) = Look(certFile);
            var (keyTime, keyLength) = Look(keyFile);
            return new Stamp(certTime, certLength, keyTime, keyLength);
        }

        private static (DateTime, long) Look(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (default, -1);
        }
    }
}
