using System.Diagnostics;
using System.Text;
using OtpNet;
using SecureMailbox.Portal.Accounts.TwoFactor;
using TotpCore = SecureMailbox.Portal.Accounts.TwoFactor.Totp;

namespace SecureMailbox.Portal.Tests.Accounts;

/// <summary>The portal's TOTP path (Accounts/TwoFactor/Totp): RFC vectors, window, replay, time zones.</summary>
[TestFixture]
public sealed class TotpTests
{
    private sealed class FixedTime(DateTimeOffset utcNow, TimeZoneInfo zone) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = utcNow;

        public override DateTimeOffset GetUtcNow() => Now;

        public override TimeZoneInfo LocalTimeZone => zone;
    }

    private static readonly byte[] RfcSeed = Encoding.ASCII.GetBytes("12345678901234567890");

    private static FixedTime At(long unixSeconds) => new(DateTimeOffset.FromUnixTimeSeconds(unixSeconds), TimeZoneInfo.FindSystemTimeZoneById("Europe/Stockholm"));

    [TestCase(59L, "94287082")]
    [TestCase(1111111109L, "07081804")]
    [TestCase(1111111111L, "14050471")]
    [TestCase(1234567890L, "89005924")]
    [TestCase(2000000000L, "69279037")]
    [TestCase(20000000000L, "65353130")]
    public void Rfc6238AppendixB_Sha1EightDigits(long unixSeconds, string expected)
    {
        Assert.That(TotpCore.ComputeAt(RfcSeed, DateTimeOffset.FromUnixTimeSeconds(unixSeconds), digits: 8), Is.EqualTo(expected));
        var verifier = new TotpCore(At(unixSeconds));
        Assert.That(verifier.Verify(RfcSeed, expected, lastUsedStep: 0, digits: 8), Is.EqualTo(unixSeconds / 30));
    }

    [Test]
    public void Rfc4226AppendixD_CountersZeroToNine()
    {
        string[] expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        for (var counter = 0; counter < expected.Length; counter++)
        {
            // A TOTP step is the HOTP counter: the code at counter × 30 s is HOTP(counter).
            var instant = DateTimeOffset.FromUnixTimeSeconds(counter * 30L);
            Assert.That(TotpCore.ComputeAt(RfcSeed, instant), Is.EqualTo(expected[counter]), $"counter {counter}");
            Assert.That(new TotpCore(At(counter * 30L)).Verify(RfcSeed, expected[counter], lastUsedStep: -1), Is.EqualTo(counter), $"counter {counter}");
        }
    }

    [Test]
    public void Window_OneStepEitherSideAccepted_TwoStepsRefused()
    {
        var secret = TotpCore.NewSecret();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_764_000_000);
        var verifier = new TotpCore(new FixedTime(now, TimeZoneInfo.Utc));
        string Code(int steps) => TotpCore.ComputeAt(secret, now.AddSeconds(steps * 30));

        Assert.That(verifier.Verify(secret, Code(0), 0), Is.Not.Null);
        Assert.That(verifier.Verify(secret, Code(-1), 0), Is.Not.Null);
        Assert.That(verifier.Verify(secret, Code(1), 0), Is.Not.Null);
        Assert.That(verifier.Verify(secret, Code(-2), 0), Is.Null, "a code two steps old");
        Assert.That(verifier.Verify(secret, Code(2), 0), Is.Null, "a code two steps ahead");
        Assert.That(verifier.Verify(secret, "", 0), Is.Null);
        Assert.That(verifier.Verify(secret, "12345", 0), Is.Null);
    }

    [Test]
    public void Replay_SameOrEarlierStepRefused()
    {
        var secret = TotpCore.NewSecret();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_764_000_000);
        var verifier = new TotpCore(new FixedTime(now, TimeZoneInfo.Utc));
        var code = TotpCore.ComputeAt(secret, now);
        var step = verifier.Verify(secret, code, 0);

        Assert.That(step, Is.EqualTo(TotpCore.StepAt(now)));
        Assert.That(verifier.Verify(secret, code, step!.Value), Is.Null, "same step again");
        Assert.That(verifier.Verify(secret, TotpCore.ComputeAt(secret, now.AddSeconds(-30)), step.Value), Is.Null, "an earlier step after a later one");
        Assert.That(verifier.Verify(secret, TotpCore.ComputeAt(secret, now.AddSeconds(30)), step.Value), Is.EqualTo(step + 1));
    }

    [Test]
    public void Secret_Is160BitsFromTheCsprng_AndShownInGroupsOfFour()
    {
        var a = TotpCore.NewSecret();
        var b = TotpCore.NewSecret();
        Assert.That(a, Has.Length.GreaterThanOrEqualTo(20));
        Assert.That(a, Is.Not.EqualTo(b));
        var grouped = TotpCore.Grouped(a);
        Assert.That(grouped.Split(' '), Has.Length.EqualTo(8).And.All.Length.EqualTo(4));
        Assert.That(Base32Encoding.ToBytes(grouped.Replace(" ", "", StringComparison.Ordinal)), Is.EqualTo(a));
        Assert.That(TotpCore.OtpAuthUri("anna@patient.example", a), Does.StartWith("otpauth://totp/SecureMailbox:anna%40patient.example?secret=" + TotpCore.Base32(a) + "&issuer=SecureMailbox"));
    }

    [Test]
    public async Task StockholmLocalZone_CodeIsTheUtcOne_SameAsOathtool()
    {
        var secret = TotpCore.NewSecret();
        // Summer time in Stockholm (UTC+2): a local-time mix-up would be four steps off, far outside the window.
        var now = new DateTimeOffset(2026, 7, 1, 12, 0, 10, TimeSpan.Zero);
        var time = new FixedTime(now, TimeZoneInfo.FindSystemTimeZoneById("Europe/Stockholm"));
        Assert.That(time.GetLocalNow().Offset, Is.EqualTo(TimeSpan.FromHours(2)));

        var start = new ProcessStartInfo("oathtool", ["--totp", "-b", TotpCore.Base32(secret), "--now", now.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["TZ"] = "Europe/Stockholm";
        using var process = Process.Start(start)!;
        var expected = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, await process.StandardError.ReadToEndAsync());

        Assert.That(TotpCore.ComputeAt(secret, now), Is.EqualTo(expected));
        Assert.That(new TotpCore(time).Verify(secret, expected, 0), Is.EqualTo(TotpCore.StepAt(now)));
        // Had local wall time been used as if it were UTC, the same code would be refused (2 h = 240 steps off).
        var local = TimeZoneInfo.ConvertTime(now, time.LocalTimeZone);
        var wrongClock = new FixedTime(new DateTimeOffset(local.DateTime, TimeSpan.Zero), TimeZoneInfo.Utc);
        Assert.That(new TotpCore(wrongClock).Verify(secret, expected, 0), Is.Null);
    }
}
