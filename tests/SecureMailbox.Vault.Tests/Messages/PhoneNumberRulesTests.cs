using Microsoft.Extensions.Options;
using SecureMailbox.Vault.Phones;

namespace SecureMailbox.Vault.Tests.Messages;

[TestFixture]
public sealed class PhoneNumberRulesTests
{
    private static readonly PhoneNumberRules Rules = new(Options.Create(new PhoneOptions()));

    [TestCase("070-123 45 67", "+46701234567")]
    [TestCase("+46 70 123 45 67", "+46701234567")]
    [TestCase("0046701234567", "+46701234567")]
    [TestCase("+358 40 1234567", "+358401234567")]
    [TestCase("+49 151 23456789", "+4915123456789")]
    public void Check_ValidMobile_NormalisesToE164(string input, string expected)
    {
        var check = Rules.Check(input);

        Assert.That(check.IsValid, Is.True, check.Problem);
        Assert.That(check.E164, Is.EqualTo(expected));
    }

    [TestCase(null, "no number")]
    [TestCase("", "no number")]
    [TestCase("call-me-maybe", "not a phone number")]
    [TestCase("070", "not a valid number")]
    [TestCase("08-123 456 78", "not a mobile number")]
    [TestCase("+1 202 555 0143", "not allowed")]
    [TestCase("+46701234567\r\nBcc: x@y", "not a phone number")]
    public void Check_HostileOrUnusable_IsRefusedWithAReason(string? input, string problem)
    {
        var check = Rules.Check(input);

        Assert.That(check.IsValid, Is.False);
        Assert.That(check.Problem, Does.Contain(problem));
    }

    [Test]
    public void Check_VeryLongInput_IsRefused()
    {
        Assert.That(Rules.Check(new string('7', 100_000)).IsValid, Is.False);
    }

    [Test]
    public void Mask_SwedishMobile_ShowsCountryPrefixAndLastTwoDigits()
    {
        Assert.That(PhoneNumberRules.Mask("+46701234567"), Is.EqualTo("+46 70 *** ** 67"));
    }
}
