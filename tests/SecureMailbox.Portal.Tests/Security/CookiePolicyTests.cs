using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SecureMailbox.Portal.Security;
using SecureMailbox.Vault;

namespace SecureMailbox.Portal.Tests.Security;

/// <summary>Cookie naming per set-up, and the loopback-only guard of the plain-http set-up.</summary>
[TestFixture]
public sealed class CookiePolicyTests
{
    private static CookiePolicy For(string baseUrl) => new(Options.Create(new PortalOptions { BaseUrl = baseUrl }));

    [TestCase("https://securemailbox.example.se", false, "__Host-smbx-session")]
    [TestCase("https://localhost:5001", false, "__Host-smbx-session")]
    [TestCase("http://localhost:5000", true, "smbx-session")]
    [TestCase("http://127.0.0.1:5000", true, "smbx-session")]
    public void CookiePolicy_BaseUrl_DecidesPrefixAndSecure(string baseUrl, bool plain, string sessionCookie)
    {
        var policy = For(baseUrl);

        Assert.That(policy.PlainHttpLoopback, Is.EqualTo(plain));
        Assert.That(policy.SessionCookie, Is.EqualTo(sessionCookie));
        Assert.That(policy.SecurePolicy, Is.EqualTo(plain ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always));
        var context = new DefaultHttpContext();
        Assert.That(policy.Options(context).Secure, Is.EqualTo(!plain));
        Assert.That(policy.Options(context).HttpOnly, Is.True);
    }

    [TestCase("127.0.0.1", 200)]
    [TestCase("::1", 200)]
    [TestCase("192.168.1.20", 403)]
    public async Task LoopbackOnly_PlainHttpSetUp_RefusesOtherMachines(string remote, int expected)
    {
        var middleware = new LoopbackOnlyMiddleware(_ => Task.CompletedTask, For("http://localhost:5000"));
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Scheme = "http";

        await middleware.InvokeAsync(context);

        Assert.That(context.Response.StatusCode, Is.EqualTo(expected));
    }

    [TestCase("/mailbox", "/mailbox")]
    [TestCase("/mailbox/m/1?x=1", "/mailbox/m/1?x=1")]
    [TestCase("https://evil.example", "/fallback")]
    [TestCase("//evil.example", "/fallback")]
    [TestCase("/\\evil.example", "/fallback")]
    [TestCase("/\r\nLocation: x", "/fallback")]
    [TestCase("", "/fallback")]
    public void LocalReturnUrl_OnlyLocalPaths(string url, string expected) =>
        Assert.That(LocalReturnUrl.Or(url, "/fallback"), Is.EqualTo(expected));
}
