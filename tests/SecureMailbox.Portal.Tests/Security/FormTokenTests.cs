using System.Text.RegularExpressions;
using SecureMailbox.Portal.Tests.Addin;

namespace SecureMailbox.Portal.Tests.Security;

/// <summary>
/// ASP.NET Core's form tag helper adds the anti-forgery field to a POST form only when the form has no plain
/// <c>action</c> attribute: a form with one posts without a token and a real browser gets 400. Tests that take the
/// token from elsewhere on the page would not notice, so every view is checked here.
/// </summary>
[TestFixture]
public sealed partial class FormTokenTests
{
    [Test]
    public void EveryPostFormWithAnAction_AsksForTheAntiforgeryField()
    {
        var views = Directory.GetFiles(Path.Combine(AddinEndpointsTests.RepositoryRoot(), "portal"), "*.cshtml", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.That(views, Has.Count.GreaterThan(10), "the portal's views were found");
        var missing = new List<string>();
        var postForms = 0;
        foreach (var view in views)
        {
            var text = File.ReadAllText(view);
            foreach (Match form in FormTag().Matches(text))
            {
                var tag = form.Value;
                // The streamed reply upload validates the token itself, from a field the view writes by hand.
                var manualToken = tag.Contains("asp-antiforgery=\"false\"", StringComparison.Ordinal)
                    && text.IndexOf("name=\"__csrf\"", form.Index, StringComparison.Ordinal) is var at && at > 0
                    && text.IndexOf("</form>", form.Index, StringComparison.Ordinal) > at;
                if (!tag.Contains("method=\"post\"", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                postForms++;
                if (tag.Contains("action=", StringComparison.Ordinal) && !tag.Contains("asp-antiforgery=\"true\"", StringComparison.Ordinal) && !manualToken)
                {
                    missing.Add(Path.GetFileName(view) + ": " + tag);
                }
            }
        }
        Assert.That(postForms, Is.GreaterThan(10));
        Assert.That(missing, Is.Empty);
    }

    [GeneratedRegex("<form\\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex FormTag();
}
