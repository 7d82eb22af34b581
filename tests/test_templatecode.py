"""The tuned Jinja code (generator/templatecode.py) renders every template exactly as Jinja's own."""
import datetime as dt
import functools
import traceback
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup, escape

from conftest import TODAY, page
from generator.build import BuildOptions, build
from generator.cache import cache_format
from generator.render import SiteEnvironment, compile_with_includes
from generator.templatecode import FastCodeGenerator, FastContext, escape_text, fits_this_jinja

TEMPLATES = {
    "base.html": """<!doctype html><title>{% block title %}{{ title }} · {{ site.name }}{% endblock %}</title>
<body{% block attrs %}{% endblock %}>{% include "partials/head.html" %}
{% block main %}base main{% endblock %}
{% block scripts %}<script src="{{ asset('a.js') }}"></script>{% endblock %}</body>""",
    "partials/head.html":
        "<header>{{ site.name }} & {{ title|upper }}{% if menu %} {{ menu|join(', ') }}{% endif %}</header>",
    "partials/item.html": "<li>{{ item }}{{ suffix }}</li>",
    "page.html": """{% extends "base.html" %}
{% block attrs %} data-step="{{ page.step }}" class="x{% if page.door %} door{% endif %}"{% endblock %}
{% block scripts %}{{ super() }}<script>{{ data }}</script>{% endblock %}
{% block title %}{% for x in items %}[{{ super() }}]{% endfor %}{% set again = super() %}{{ again }}{% endblock %}
{% block main %}
{% macro card(p, note="") %}<div class="card">{{ p }}{{ note }}{{ caller() if caller else "" }}</div>{% endmacro %}
{% set captured %}<b>{{ title }}</b>{% endset %}
{% set plain = "<i>" ~ title ~ "</i>" %}
<h1>{{ title }}</h1>{{ captured }}{{ plain }}{{ content }}{{ number }} {{ none_value }} {{ missing_value }}
{% for item in items %}{{ loop.index }}:{{ item }}{% if not loop.last %}, {% endif %}
{% include "partials/item.html" %}{% endfor %}
{% for item in items %}{% set suffix = "!" %}{% include "partials/item.html" %}{% endfor %}
{{ card(title, note=lower(title)) }}{% call card("called") %}inside <{{ title }}>{% endcall %}
{% filter upper %}filtered {{ title }}{% endfilter %}
{% autoescape false %}raw {{ title }} {{ content }}{% endautoescape %}
{% include ["nope.html", "partials/item.html"] %}{% include "nope.html" ignore missing %}
{% with item = "w" %}{% include "partials/item.html" without context %}{% include "partials/item.html" %}{% endwith %}
{{ ctx_fn() }} {{ env_fn() }} {{ cached("a<b") }} {{ stop() }} {{ "%s-%s"|format(1, "<") }} {{ range(3)|list }}
{{ page.date.isoformat() }} {{ helper.shout(title) }} {{ page["step"] }}
{% macro listed(x) %}<ul>{% set item = x %}{% include "partials/item.html" %}</ul>{% endmacro %}{{ listed("m<") }}
{% endblock %}""",
    "lookups.html": """{% extends "base.html" %}{% set title = "child <title>" %}
{% block main %}{{ helper.nothing }}|{{ none_value.attr }}|{{ page.step }}|{{ page.nothing }}|{{ helper.shout.__name__ }}|\
{% for x in items %}{{ title }}{{ x.real }}{% endfor %}|{% macro m() %}{{ title }}{{ number.real }}{% endmacro %}{{ m() }}{% endblock %}""",
    "chosen.html": """{% if wrapped %}{% extends "base.html" %}{% endif %}top {{ title }} text
{% block main %}chosen <{{ title }}> and {{ title }}!{% endblock %}""",
}


class Helper:
    def shout(self, text):
        return text.upper() + "<!>"


@jinja2.pass_context
def ctx_fn(context):
    return f"ctx:{context['title']}"


@jinja2.pass_environment
def env_fn(environment):
    return f"env:{type(environment).__name__ in ('Environment', 'SiteEnvironment')}"


@functools.lru_cache
def cached(text):
    return text + "&"


def stop():
    raise StopIteration


def render_both(name, **context):
    def environment(cls):
        return cls(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True,
                   keep_trailing_newline=True)

    return [environment(cls).get_template(name).render(context) for cls in (jinja2.Environment, SiteEnvironment)]


CONTEXT = dict(
    title="Tom & <Jerry>", site={"name": "A \"quoted\" site"}, menu=["<a>", "b"], content=Markup("<p>hi &amp;</p>"),
    number=42, none_value=None, items=["x<", "y", 3], data=Markup("var a = 1;"),
    page={"step": "free", "door": True, "date": dt.date(2026, 11, 23)},
    asset=lambda path: "/assets/" + path + "?v=1", lower=str.lower, ctx_fn=ctx_fn, env_fn=env_fn, cached=cached,
    stop=stop, helper=Helper(),
)


def test_same_text_as_jinja_for_every_construct():
    ours, jinjas = render_both("page.html", **CONTEXT)[::-1]
    assert ours == jinjas
    # and the page really exercised what it claims: escaping, includes, calls with the context
    for expected in ("Tom &amp; &lt;Jerry&gt;", "<p>hi &amp;</p>", "ctx:Tom &amp; &lt;Jerry&gt;", "env:True",
                     "a&lt;b&amp;", "/assets/a.js?v=1", "<li>x&lt;!</li>", "raw Tom & <Jerry>",
                     "FILTERED TOM &AMP; &LT;JERRY&GT;", "TOM &amp; &lt;JERRY&gt;&lt;!&gt;", "2026-11-23",
                     "<ul><li>m&lt;</li></ul>"):
        assert expected in ours, expected


@pytest.mark.parametrize("wrapped", [True, False])
def test_same_text_when_a_template_extends_another_only_sometimes(wrapped):
    ours, jinjas = render_both("chosen.html", **{**CONTEXT, "wrapped": wrapped})[::-1]
    assert ours == jinjas
    assert ("<!doctype html>" in ours) == wrapped and "chosen <Tom &amp; &lt;Jerry&gt;> and" in ours
    assert ("top Tom" in ours) != wrapped  # outside its blocks, a template that extends shows nothing


def test_same_lookups_of_variables_attributes_and_items():
    """A variable the child template set is found before the context's; an attribute that is missing
    is looked up as an item, then undefined."""
    ours, jinjas = render_both("lookups.html", **CONTEXT)[::-1]
    assert ours == jinjas
    assert "<title>child &lt;title&gt; · " in ours
    assert "||free||shout|" + "child &lt;title&gt;" * 3 + "3|child &lt;title&gt;42" in ours


def test_same_text_with_values_missing():
    bare = {**CONTEXT, "items": [], "menu": None, "page": {"date": CONTEXT["page"]["date"]}}
    ours, jinjas = render_both("page.html", **bare)[::-1]
    assert ours == jinjas


def test_an_error_in_a_template_is_raised_as_jinja_raises_it():
    for cls in (jinja2.Environment, SiteEnvironment):
        env = cls(loader=jinja2.DictLoader({"t.html": "a {{ 1 // zero }} b"}), autoescape=True)
        with pytest.raises(ZeroDivisionError):
            env.get_template("t.html").render(zero=0)


@pytest.mark.parametrize("value", ["plain", "<&>\"'", "", Markup("<b>safe</b>"), 42, 1.5, None, ["<"],
                                   jinja2.Undefined(), type("Html", (), {"__html__": lambda self: "<i>"})()])
def test_escape_text_is_markupsafes_text(value):
    assert escape_text(value) == str(escape(value))
    assert type(escape_text(value)) is str


def test_context_still_passes_itself_to_functions_that_ask():
    env = SiteEnvironment(loader=jinja2.DictLoader({"t.html": "{{ f() }}|{{ g() }}"}))
    assert env.context_class is FastContext

    @jinja2.pass_eval_context
    def g(eval_ctx):
        return f"autoescape={eval_ctx.autoescape}"

    assert env.get_template("t.html").render(f=ctx_fn, g=g, title="T") == "ctx:T|autoescape=False"
    wrapped = functools.lru_cache(ctx_fn)  # the cache wrapper carries the function's mark
    assert env.get_template("t.html").render(f=wrapped, g=g, title="U") == "ctx:U|autoescape=False"


def test_compiled_templates_are_kept_only_for_the_stepstone_that_compiled_them(make_site):
    site = make_site({"content/index.md": page("Home", "awareness", "Hello.")})
    folder = site / ".stepstone/templates"
    folder.mkdir(parents=True)
    (folder / "__jinja2_0123abcd.cache").write_bytes(b"compiled by another Stepstone")
    build(BuildOptions(site=site, today=TODAY, jobs=1))
    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.startswith(cache_format()[:16] + "-") for n in names), names
    assert "Hello." in (site / "output/index.html").read_text()


def test_this_jinja_gets_the_tuned_code():
    assert fits_this_jinja()
    assert SiteEnvironment.code_generator_class is FastCodeGenerator


@pytest.mark.parametrize("source, line", [
    ("<html>\n<p>{{ a }}</p>\n<p>{{ a }} and {{ b.c.d }} here</p>\n", 3),
    ("<ul>\n{% for x in items %}\n<li>{{ x }}\n{{ x.missing.deeper }}</li>\n{% endfor %}\n</ul>\n", 4),
    ('<p>\n{{ a }}{% include "inc.html" %}\n</p>\n', 2),  # the error is in inc.html's line 2
])
def test_an_error_is_traced_to_the_same_template_line(tmp_path, source, line):
    (tmp_path / "t.html").write_text(source)
    (tmp_path / "inc.html").write_text("ok\n{{ b.c.d }}\n")
    seen = []
    for cls in (jinja2.Environment, SiteEnvironment):
        env = cls(loader=jinja2.FileSystemLoader(str(tmp_path)), autoescape=True, trim_blocks=True)
        with pytest.raises(jinja2.UndefinedError) as caught:
            env.get_template("t.html").render(a="x", items=[1])
        frames = [f for f in traceback.extract_tb(caught.value.__traceback__) if f.filename.endswith(".html")]
        seen.append((Path(frames[-1].filename).name, frames[-1].lineno))
    assert seen[0] == seen[1]
    assert seen[1][1] == line


def test_templates_are_compiled_with_all_they_include_and_a_broken_one_is_left_for_rendering():
    env = SiteEnvironment(loader=jinja2.DictLoader({
        **TEMPLATES, "broken.html": "{% if %}", "uses-broken.html": '{% include "broken.html" %}',
        "unused.html": "never asked for"}))
    compile_with_includes(env, ["page.html", "uses-broken.html"])
    compiled = {template.name for template in env.cache.values()}
    assert compiled == {"page.html", "base.html", "partials/head.html", "partials/item.html", "uses-broken.html"}
    with pytest.raises(jinja2.TemplateSyntaxError):
        env.get_template("uses-broken.html").render()


def test_another_jinja_compiles_its_own_way(monkeypatch):
    monkeypatch.setattr(jinja2, "__version__", "3.2.0")
    assert not fits_this_jinja()
    monkeypatch.delattr(jinja2, "__version__")
    assert not fits_this_jinja()


def test_a_jinja_without_the_parts_the_lookups_build_on_compiles_its_own_way(monkeypatch):
    import generator.templatecode as templatecode
    monkeypatch.setattr(templatecode, "VAR_LOAD_RESOLVE", None)  # as when jinja2.idtracking lacks it
    assert not fits_this_jinja()
