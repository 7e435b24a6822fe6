using Ganss.Xss;

namespace SecureMailbox.Portal.Mailbox;

/// <summary>
/// Mail HTML for the reading frame (docs/rules.md E1): HtmlSanitizer drops scripts and handlers, and on top of its
/// defaults <c>&lt;link&gt;</c>, <c>&lt;meta&gt;</c>, <c>&lt;base&gt;</c>, forms and every URL-bearing attribute go;
/// only <c>img src</c> with http(s) stays, and only when the reader asked for images. The result is shown in
/// <c>&lt;iframe sandbox srcdoc&gt;</c> under its own <c>default-src 'none'</c> policy.
/// </summary>
public static partial class HtmlBodySanitizer
{
    private static readonly string[] DroppedTags =
    [
        "link", "meta", "base", "form", "input", "button", "select", "option", "optgroup", "textarea", "label", "fieldset", "legend",
        "iframe", "frame", "frameset", "object", "embed", "applet", "audio", "video", "source", "track", "picture", "svg", "math", "style", "script", "noscript", "template",
    ];

    public static string Sanitize(string html, bool allowImages)
    {
        var sanitizer = new HtmlSanitizer();
        foreach (var tag in DroppedTags)
        {
            sanitizer.AllowedTags.Remove(tag);
        }
        // <a> stays, without href (a URL attribute): its text is shown, nothing is linked. Removed tags go with their
        // content (KeepChildNodes off), so a script's source never shows up as text.
        sanitizer.KeepChildNodes = false;
        foreach (var attribute in sanitizer.UriAttributes.ToList())
        {
            if (attribute != "src")
            {
                sanitizer.AllowedAttributes.Remove(attribute);
            }
        }
        foreach (var attribute in new[] { "srcset", "ping", "background", "poster", "formaction", "action", "href", "cite", "longdesc", "usemap", "dynsrc", "lowsrc", "id", "name" })
        {
            sanitizer.AllowedAttributes.Remove(attribute);
        }
        foreach (var property in sanitizer.AllowedCssProperties.Where(p => p.Contains("image", StringComparison.Ordinal) || p is "background" or "content" or "cursor" or "behavior" or "src").ToList())
        {
            sanitizer.AllowedCssProperties.Remove(property);
        }
        sanitizer.AllowedSchemes.Clear();
        if (allowImages)
        {
            sanitizer.AllowedSchemes.Add("https");
            sanitizer.AllowedSchemes.Add("http");
        }
        sanitizer.PostProcessNode += (_, e) =>
        {
            // Overlays (E8): a fixed or sticky box could cover the mail with something that looks like the portal.
            if (e.Node is AngleSharp.Dom.IElement styled && styled.GetAttribute("style") is { } style
                && OverlayPosition().IsMatch(style))
            {
                styled.SetAttribute("style", OverlayPosition().Replace(style, "position: static"));
            }
            if (e.Node is AngleSharp.Dom.IElement element && element.HasAttribute("src")
                && (!allowImages || !string.Equals(element.LocalName, "img", StringComparison.Ordinal)
                    || !(element.GetAttribute("src")!.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || element.GetAttribute("src")!.StartsWith("http://", StringComparison.OrdinalIgnoreCase))))
            {
                element.RemoveAttribute("src");
            }
        };
        return sanitizer.Sanitize(html);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"position\s*:\s*(fixed|sticky)", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex OverlayPosition();

    /// <summary>Whether the HTML refers to remote images (to offer "show images").</summary>
    public static bool HasRemoteImages(string html) =>
        html.Contains("<img", StringComparison.OrdinalIgnoreCase) && html.Contains("http", StringComparison.OrdinalIgnoreCase);

    /// <summary>The frame's own document: a policy that allows nothing but inline styles (and images when asked).</summary>
    public static string FrameDocument(string sanitizedBody, bool allowImages) =>
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src "
        + (allowImages ? "https: http: data:" : "data:") + "\"><meta name=\"referrer\" content=\"no-referrer\"><style>body{font-family:system-ui,sans-serif;line-height:1.5;margin:.75rem;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style></head><body>" + sanitizedBody + "</body></html>";
}
