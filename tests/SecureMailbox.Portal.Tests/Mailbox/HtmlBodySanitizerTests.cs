using SecureMailbox.Portal.Mailbox;

namespace SecureMailbox.Portal.Tests.Mailbox;

[TestFixture]
public sealed class HtmlBodySanitizerTests
{
    [TestCase("<script>alert(1)</script>", "<script")]
    [TestCase("<img src=x onerror=alert(1)>", "onerror")]
    [TestCase("<svg onload=alert(1)></svg>", "onload")]
    [TestCase("<link rel=dns-prefetch href=//x.example>", "x.example")]
    [TestCase("<meta http-equiv=refresh content=\"0;url=//x.example\">", "x.example")]
    [TestCase("<base href=https://x.example/>", "x.example")]
    [TestCase("<form action=https://x.example><button>go</button></form>", "x.example")]
    [TestCase("<a href=\"javascript:alert(1)\">x</a>", "javascript")]
    [TestCase("<div style=\"background:url(https://x.example/a.png)\">x</div>", "x.example")]
    [TestCase("<iframe src=https://x.example></iframe>", "x.example")]
    [TestCase("<video poster=https://x.example/p.png></video>", "x.example")]
    public void Sanitize_HostileMarkup_IsRemoved(string html, string forbidden)
    {
        var clean = HtmlBodySanitizer.Sanitize(html, allowImages: false);

        Assert.That(clean, Does.Not.Contain(forbidden).IgnoreCase);
    }

    [Test]
    public void Sanitize_Images_OnlyWhenAsked()
    {
        const string html = "<img src=\"https://images.example/a.png\" alt=\"a\">";

        Assert.That(HtmlBodySanitizer.Sanitize(html, allowImages: false), Does.Not.Contain("images.example"));
        Assert.That(HtmlBodySanitizer.Sanitize(html, allowImages: true), Does.Contain("https://images.example/a.png"));
    }

    [TestCase("<div style=\"position: fixed; top: 0; left: 0; width: 100%\">Logga in igen</div>")]
    [TestCase("<div style=\"POSITION:sticky;top:0\">Banner</div>")]
    public void Sanitize_OverlayPositions_AreNeutralised(string html)
    {
        var clean = HtmlBodySanitizer.Sanitize(html, allowImages: false);

        Assert.That(clean, Does.Not.Contain("fixed").IgnoreCase.And.Not.Contain("sticky").IgnoreCase);
        Assert.That(clean, Does.Contain("position: static"));
    }

    [Test]
    public void FrameDocument_HasItsOwnStrictPolicy()
    {
        var document = HtmlBodySanitizer.FrameDocument("<p>x</p>", allowImages: false);

        Assert.That(document, Does.Contain("default-src 'none'").And.Contain("img-src data:"));
    }
}
