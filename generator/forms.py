"""Signup form conventions of each email provider, as plain data (no I/O).

A form is rendered from a `FormSpec`: where it posts, the name of the email
field, hidden fields, a honeypot, and how it sends the visitor to the
thank-you page. Each provider documents these for its own plain-HTML embed;
no vendor script is ever used.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class FormConfig:
    """One `[forms.NAME]` table of stepstone.toml."""

    name: str
    provider: str
    action: str = ""
    options: tuple[tuple[str, str], ...] = ()  # provider-specific keys, sorted
    line: int = 0

    def option(self, key: str, default: str = "") -> str:
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class Field:
    name: str
    value: str = ""


@dataclass(frozen=True)
class FormSpec:
    """Everything a template needs to write one provider's form."""

    action: str
    email_field: str
    first_name_field: str = ""   # empty: no name asked
    hidden: tuple[Field, ...] = ()
    honeypot: str = ""           # name of a field that humans never fill
    consent_field: str = ""
    consent_text: str = ""
    attributes: tuple[Field, ...] = ()  # extra attributes on <form>


# For providers without a honeypot of their own: a field no human fills in,
# which the provider stores or ignores; a filled one marks a bot.
PLAIN_HONEYPOT = "website"

# Keys every provider accepts, and the keys each one requires or allows.
COMMON_KEYS = {"provider", "action", "first_name", "consent"}
PROVIDERS: dict[str, dict[str, set[str]]] = {
    # Mailchimp's embedded form code (Audience > Signup forms > Embedded forms,
    # https://mailchimp.com/help/add-a-signup-form-to-your-website/): POST to
    # https://<dc>.list-manage.com/subscribe/post?u=<u>&id=<id>, fields EMAIL and FNAME, and an
    # off-screen <input name="b_<u>_<id>" tabindex="-1" value=""> that bots fill and people don't.
    "mailchimp": {"required": {"action"}, "optional": set()},
    # Kit's (ConvertKit's) HTML embed (https://help.kit.com/en/articles/4009572-form-embedding-basics,
    # "HTML" option): POST to https://app.kit.com/forms/<id>/subscriptions with email_address and
    # fields[first_name]. Kit documents no honeypot: ours is a field Kit ignores.
    "kit": {"required": {"action"}, "optional": set()},
    # Buttondown's embed form (https://docs.buttondown.com/building-your-subscriber-base, "Embedding
    # a subscription form"): POST to https://buttondown.com/api/emails/embed-subscribe/<username>,
    # field email, hidden embed=1, and an optional hidden tag.
    "buttondown": {"required": {"action"}, "optional": {"tag"}},
    # Formspree (https://help.formspree.io/articles/building-your-form/honeypot-spam-filtering and
    # https://help.formspree.io/hc/en-us/articles/360012378333): POST to https://formspree.io/f/<id>,
    # a hidden _gotcha honeypot, and _next, the address to go to after submitting.
    "formspree": {"required": {"action"}, "optional": set()},
    # Netlify Forms (https://docs.netlify.com/forms/setup/ and .../forms/spam-filters/): a named
    # <form data-netlify="true">, a hidden form-name input with that name, netlify-honeypot="bot-field"
    # naming the honeypot input, and action = the path of the success (thank-you) page.
    "netlify": {"required": set(), "optional": set()},
    # Brevo's (Sendinblue's) form embed HTML (Contacts > Forms > Subscription > Share > HTML code,
    # https://help.brevo.com/hc/en-us/articles/360019540880): POST to
    # https://<id>.sibforms.com/serve/<form>, field EMAIL, the email_address_check honeypot,
    # hidden locale, and the OPT_IN checkbox for consent.
    "brevo": {"required": {"action"}, "optional": set()},
    # Any endpoint that takes a plain POST (a form backend, an own script): every name is configurable.
    "generic": {
        "required": {"action"},
        "optional": {"email_field", "first_name_field", "honeypot_field", "redirect_field"},
    },
}


def known_keys(provider: str) -> set[str]:
    spec = PROVIDERS.get(provider, {"required": set(), "optional": set()})
    return COMMON_KEYS | spec["required"] | spec["optional"]


def form_spec(form: FormConfig, thank_you_url: str, thank_you_path: str) -> FormSpec:
    """The fields of `form` for its provider; `thank_you_url` is absolute, `_path` site-relative."""
    consent = form.option("consent")
    wants_name = form.option("first_name") == "true"
    p = form.provider
    if p == "mailchimp":
        query = parse_qs(urlsplit(form.action).query)
        u, list_id = query.get("u", [""])[0], query.get("id", [""])[0]
        return FormSpec(form.action, "EMAIL", "FNAME" if wants_name else "",
                        honeypot=f"b_{u}_{list_id}", consent_text=consent,
                        consent_field="consent" if consent else "")
    if p == "kit":
        return FormSpec(form.action, "email_address", "fields[first_name]" if wants_name else "",
                        honeypot=PLAIN_HONEYPOT, consent_text=consent,
                        consent_field="consent" if consent else "")
    if p == "buttondown":
        hidden = [Field("embed", "1")]
        if form.option("tag"):
            hidden.append(Field("tag", form.option("tag")))
        return FormSpec(form.action, "email", "metadata__first_name" if wants_name else "",
                        hidden=tuple(hidden), honeypot=PLAIN_HONEYPOT, consent_text=consent,
                        consent_field="consent" if consent else "")
    if p == "formspree":
        hidden = (Field("_next", thank_you_url),) if thank_you_url else ()
        return FormSpec(form.action, "email", "first_name" if wants_name else "", hidden=hidden,
                        honeypot="_gotcha", consent_text=consent,
                        consent_field="consent" if consent else "")
    if p == "netlify":
        return FormSpec(thank_you_path or form.action, "email", "first_name" if wants_name else "",
                        hidden=(Field("form-name", form.name),), honeypot="bot-field",
                        consent_text=consent, consent_field="consent" if consent else "",
                        attributes=(Field("name", form.name), Field("data-netlify", "true"),
                                    Field("netlify-honeypot", "bot-field")))
    if p == "brevo":
        return FormSpec(form.action, "EMAIL", "FIRSTNAME" if wants_name else "",
                        hidden=(Field("locale", "en"),), honeypot="email_address_check",
                        consent_text=consent, consent_field="OPT_IN" if consent else "")
    # generic
    redirect = form.option("redirect_field")
    hidden = (Field(redirect, thank_you_url),) if redirect and thank_you_url else ()
    return FormSpec(form.action, form.option("email_field", "email"),
                    form.option("first_name_field", "first_name") if wants_name else "",
                    hidden=hidden, honeypot=form.option("honeypot_field", PLAIN_HONEYPOT),
                    consent_text=consent, consent_field="consent" if consent else "")


LOCAL_ENDPOINT = "/_stepstone/submit"  # served by `stepstone serve` only, never part of a build


def preview_form(spec: FormSpec, name: str, thank_you_path: str) -> FormSpec:
    """The form as `serve` previews it: the provider's field names, posted to the local endpoint,
    which keeps the submission in .stepstone/submissions.jsonl and goes on to the thank-you page."""
    return replace(spec, action=LOCAL_ENDPOINT,
                   hidden=(*spec.hidden, Field("_stepstone_form", name), Field("_stepstone_next", thank_you_path)))
