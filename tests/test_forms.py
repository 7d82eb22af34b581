"""Every email provider's form as its own embed code writes it: action, field names, honeypot,
redirect to the thank-you page; config mistakes named in words; nothing secret published."""
from html.parser import HTMLParser

import pytest

from conftest import page
from generator.build import BuildOptions, assemble
from generator.errors import SiteError
from conftest import TODAY, write_site

FORMS = """\
title = "Forms"
base_url = "https://shop.example.com/sub/"

[forms.mailchimp]
provider = "mailchimp"
action = "https://example.us21.list-manage.com/subscribe/post?u=1a2b3c&id=4d5e6f"
first_name = true

[forms.kit]
provider = "kit"
action = "https://app.kit.com/forms/7654321/subscriptions"
first_name = true

[forms.buttondown]
provider = "buttondown"
action = "https://buttondown.com/api/emails/embed-subscribe/couchco"
tag = "checklist"

[forms.formspree]
provider = "formspree"
action = "https://formspree.io/f/xyzabcd"

[forms.netlify]
provider = "netlify"

[forms.brevo]
provider = "brevo"
action = "https://a1b2c3.sibforms.com/serve/MUIFAbc123"
consent = "I agree to receive the monthly tips."

[forms.generic]
provider = "generic"
action = "https://mail.example.net/subscribe"
email_field = "address"
honeypot_field = "nickname"
redirect_field = "return_to"
"""
PROVIDERS = ["mailchimp", "kit", "buttondown", "formspree", "netlify", "brevo", "generic"]


class FormReader(HTMLParser):
    """The signup form of a page: its attributes and its inputs (name -> attributes)."""

    def __init__(self, html: str):
        super().__init__()
        self.form: dict | None = None
        self.inputs: dict[str, dict] = {}
        self.inside = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("data-stepstone") == "signup":
            self.form, self.inside = attrs, True
        elif tag == "input" and self.inside and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    """{provider: FormReader of its door page}, built once."""
    files = {"stepstone.toml": FORMS,
             "content/index.md": page("Home", "awareness", "Hi.", offer="{headline: Read}"),
             "content/free.md": page("Free", "free", "Value.")}
    for name in PROVIDERS:
        files[f"content/{name}/join.md"] = page(f"Join {name}", "insider", "Join.", offer="{headline: Join}",
                                                form=name, thank_you=f"{name}/thanks")
        files[f"content/{name}/thanks.md"] = page(f"Thanks {name}", "insider", "Thanks.")
    site = write_site(tmp_path_factory.mktemp("forms") / "site", files)
    built = assemble(BuildOptions(site=site, today=TODAY))
    return {name: FormReader(built.files[f"{name}/join/index.html"].data.decode()) for name in PROVIDERS}


def hidden_off_screen(form: FormReader, name: str) -> bool:
    field = form.inputs[name]
    return field.get("tabindex") == "-1" and field.get("value", "") == ""


def test_mailchimp_posts_its_subscribe_url_with_email_name_and_list_honeypot(forms):
    f = forms["mailchimp"]
    assert f.form["method"] == "post"
    assert f.form["action"] == "https://example.us21.list-manage.com/subscribe/post?u=1a2b3c&id=4d5e6f"
    assert f.inputs["EMAIL"]["type"] == "email" and "required" in f.inputs["EMAIL"]
    assert "FNAME" in f.inputs
    assert hidden_off_screen(f, "b_1a2b3c_4d5e6f")


def test_kit_posts_to_the_form_subscriptions_url(forms):
    f = forms["kit"]
    assert f.form["action"] == "https://app.kit.com/forms/7654321/subscriptions"
    assert f.inputs["email_address"]["type"] == "email"
    assert "fields[first_name]" in f.inputs


def test_buttondown_marks_an_embed_and_its_tag(forms):
    f = forms["buttondown"]
    assert f.form["action"] == "https://buttondown.com/api/emails/embed-subscribe/couchco"
    assert f.inputs["email"]["type"] == "email"
    assert f.inputs["embed"] == {"type": "hidden", "name": "embed", "value": "1"}
    assert f.inputs["tag"]["value"] == "checklist"


def test_formspree_has_its_gotcha_honeypot_and_sends_on_to_the_thank_you_page(forms):
    f = forms["formspree"]
    assert f.form["action"] == "https://formspree.io/f/xyzabcd"
    assert hidden_off_screen(f, "_gotcha")
    assert f.inputs["_next"]["value"] == "https://shop.example.com/sub/formspree/thanks/"


def test_netlify_is_named_marked_and_posts_to_the_thank_you_path(forms):
    f = forms["netlify"]
    assert f.form["data-netlify"] == "true" and f.form["name"] == "netlify"
    assert f.form["netlify-honeypot"] == "bot-field" and hidden_off_screen(f, "bot-field")
    assert f.inputs["form-name"]["value"] == "netlify"
    assert f.form["action"] == "/sub/netlify/thanks/"


def test_brevo_has_its_honeypot_and_an_opt_in_box(forms):
    f = forms["brevo"]
    assert f.form["action"] == "https://a1b2c3.sibforms.com/serve/MUIFAbc123"
    assert f.inputs["EMAIL"]["type"] == "email"
    assert hidden_off_screen(f, "email_address_check")
    assert f.inputs["OPT_IN"]["type"] == "checkbox" and "required" in f.inputs["OPT_IN"]


def test_generic_uses_the_configured_names(forms):
    f = forms["generic"]
    assert f.form["action"] == "https://mail.example.net/subscribe"
    assert f.inputs["address"]["type"] == "email"
    assert hidden_off_screen(f, "nickname")
    assert f.inputs["return_to"]["value"] == "https://shop.example.com/sub/generic/thanks/"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_form_in_a_build_posts_to_the_local_preview_endpoint(forms, provider):
    assert "_stepstone" not in f"{forms[provider].form} {forms[provider].inputs}"


def test_under_serve_forms_post_to_the_local_endpoint_with_their_own_field_names(tmp_path):
    site = write_site(tmp_path / "site", {
        "stepstone.toml": FORMS,
        "content/index.md": page("Home", "awareness", "Hi.", offer="{headline: Read}"),
        "content/free.md": page("Free", "free", "Value."),
        "content/kit/join.md": page("Join", "insider", "Join.", offer="{headline: Join}", form="kit",
                                    thank_you="kit/thanks"),
        "content/kit/thanks.md": page("Thanks", "insider", "Thanks."),
    })
    built = assemble(BuildOptions(site=site, today=TODAY, preview=True))
    f = FormReader(built.files["kit/join/index.html"].data.decode())
    assert f.form["action"] == "/_stepstone/submit"
    assert f.inputs["_stepstone_next"]["value"] == "/sub/kit/thanks/"
    assert f.inputs["_stepstone_form"]["value"] == "kit"
    assert "email_address" in f.inputs


@pytest.mark.parametrize("table, expected", [
    ('[forms.news]\nprovider = "kit"\n', "[forms.news] needs 'action'"),
    ('[forms.news]\nprovider = "mailchimp"\naction = "https://x.list-manage.com/subscribe/post?u=1&id=2"\n'
     'api_key = "abc-us21"\n', "'api_key' looks like a secret"),
    ('[forms.news]\nprovider = "buttondwn"\naction = "https://buttondown.com/api/emails/embed-subscribe/x"\n',
     "unknown provider 'buttondwn' (did you mean 'buttondown'?)"),
])
def test_config_mistakes_are_named(make_site, table, expected):
    site = make_site({"stepstone.toml": 'title = "T"\nbase_url = "https://e.com/"\n' + table,
                      "content/index.md": page("Home", "awareness")})
    with pytest.raises(SiteError) as caught:
        assemble(BuildOptions(site=site, today=TODAY))
    assert any(expected in str(p) and str(p).startswith("stepstone.toml:") for p in caught.value.problems)
