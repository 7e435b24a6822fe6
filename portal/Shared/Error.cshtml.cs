using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using SecureMailbox.Portal.Localization;

namespace SecureMailbox.Portal.Shared;

/// <summary>One neutral page per status: no details, no stack traces.</summary>
[IgnoreAntiforgeryToken]
public sealed class ErrorPage(IStringLocalizer<SharedResource> texts) : PageModel
{
    public string Title { get; private set; } = "";

    public string Text { get; private set; } = "";

    public IActionResult OnGet(int code) => Show(code);

    public IActionResult OnPost(int code) => Show(code);

    private PageResult Show(int code)
    {
        var known = code is 400 or 403 or 404 or 413 or 429;
        Title = texts[known ? $"Error{code}Title" : "Error500Title"];
        Text = texts[known ? $"Error{code}Text" : "Error500Text"];
        return Page();
    }
}
