"""Jinja's code generator, emitting faster Python for the same templates and the same output.

Rendering 10,000 pages is mostly Jinja running its compiled templates. Two habits of that code
cost more than the work: every `{{ value }}` is escaped into a new `Markup` object that is only
joined into the page and dropped, and every piece of text between two tags is yielded on its
own, through each generator of the include and block chain above it. Here a run of text and
values with no tag between them is joined and yielded once, and a value is escaped to a plain
string. Variables and attributes are looked up inline, where Jinja calls a method for each.
The page is the same text, character for character.
"""
from __future__ import annotations

import warnings
from functools import _lru_cache_wrapper  # type: ignore[attr-defined]
from types import BuiltinFunctionType, FunctionType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import BlockReference, Context
from markupsafe import escape

try:  # Jinja 3.1's; another Jinja may lack them, and then compiles templates its own way (fits_this_jinja)
    from jinja2.compiler import optimizeconst
    from jinja2.idtracking import VAR_LOAD_RESOLVE
except ImportError:
    optimizeconst, VAR_LOAD_RESOLVE = (lambda visit: visit), None

try:
    from markupsafe import _escape_inner  # type: ignore[attr-defined]  # MarkupSafe 3: the escaping alone
except ImportError:  # older MarkupSafe
    def _escape_inner(text: str) -> str:
        return str(escape(text))


def escape_text(value: Any) -> str:
    """markupsafe.escape's text, as a plain string: it is joined into the page, never kept."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_inner(str(value))


# The parts of Jinja's code generator that FastCodeGenerator builds on, as Jinja 3.1 has them.
_JINJA_PARTS = ("_output_child_pre", "_output_child_post", "_output_child_to_const", "_output_const_repr",
                "_make_finalize", "dump_local_context", "visit_Output", "visit_Include", "visit_Template",
                "write_commons", "enter_frame", "get_resolve_func", "visit_Getattr")


def fits_this_jinja() -> bool:
    """Whether the installed Jinja is the 3.1 that FastCodeGenerator was written against: any
    other compiles templates its own way (its internals may differ)."""
    with warnings.catch_warnings():  # a later Jinja may warn that __version__ is going away
        warnings.simplefilter("ignore")
        version = str(getattr(jinja2, "__version__", ""))
    return version.startswith("3.1.") and VAR_LOAD_RESOLVE is not None \
        and all(hasattr(CodeGenerator, name) for name in _JINJA_PARTS)


class FastCodeGenerator(CodeGenerator):
    """Yields each run of output once, escaping with escape_text; looks variables and attributes up inline."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        self.writeline(f"from {__name__} import escape_text")
        super().visit_Template(node, frame)

    def write_commons(self) -> None:
        super().write_commons()
        if self._inline_lookups():
            self.writeline("_vars, _parent = context.vars, context.parent")

    def _inline_lookups(self) -> bool:
        """Whether the environment's context and getattr are Jinja's own, which the inlined
        lookups below do as they do."""
        env = self.environment
        return not env.is_async and type(env).getattr is jinja2.Environment.getattr \
            and env.context_class.resolve_or_missing is Context.resolve_or_missing

    def enter_frame(self, frame: Frame) -> None:
        """A variable of the context is looked up inline (Context.resolve_or_missing's two steps),
        not through a method call: a page looks up about a hundred."""
        if self.get_resolve_func() != "resolve" or not self._inline_lookups():
            super().enter_frame(frame)
            return
        loads = frame.symbols.loads
        resolved = {target: param for target, (action, param) in loads.items() if action == VAR_LOAD_RESOLVE}
        frame.symbols.loads = {target: load for target, load in loads.items() if target not in resolved}
        try:
            super().enter_frame(frame)
        finally:
            frame.symbols.loads = loads
        for target, param in resolved.items():
            self.writeline(f"{target} = _vars[{param!r}] if {param!r} in _vars else _parent.get({param!r}, missing)")

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        """`a.b` by the built-in getattr, then (for a missing attribute: an item, or undefined)
        environment.getattr: the same value, without a method call for every attribute."""
        if not self._inline_lookups():
            super().visit_Getattr(node, frame)
            return
        self.write("(_ga_v if (_ga_v := getattr((_ga_o := ")
        self.visit(node.node, frame)
        self.write(f"), {node.attr!r}, missing)) is not missing else environment.getattr(_ga_o, {node.attr!r}))")

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("escape_text(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer is not None or frame.require_output_check:
            super().visit_Output(node, frame)
            return
        body = self._output_body(node, frame)
        if len(body) < 2:
            super().visit_Output(node, frame)
            return
        finalize = self._make_finalize()
        self.writeline("yield ''.join((")
        self.indent()
        for item in body:
            if isinstance(item, list):
                self.writeline(self._output_const_repr(item) + ",")
                continue
            self.newline(item)
            self._output_child_pre(item, frame, finalize)
            self.visit(item, frame)
            self._output_child_post(item, frame, finalize)
            self.write(",")
        self.outdent()
        self.writeline("))")

    def visit_Include(self, node: nodes.Include, frame: Frame) -> None:
        """An include of a named template, with the context, into the output: `yield from` its events
        rather than Jinja's loop that yields them one by one (closing it stays Python's job)."""
        if (node.ignore_missing or not node.with_context or frame.buffer is not None or self.environment.is_async
                or not isinstance(node.template, nodes.Const) or not isinstance(node.template.value, str)):
            super().visit_Include(node, frame)
            return
        self.writeline("template = environment.get_template(", node)
        self.visit(node.template, frame)
        self.write(f", {self.name!r})")
        self.writeline("yield from template.root_render_func("
                       f"template.new_context(context.get_all(), True, {self.dump_local_context(frame)}))")

    def _output_body(self, node: nodes.Output, frame: Frame) -> list[Any]:
        """Jinja's own grouping of an output's children: runs of constant text, and expressions."""
        finalize = self._make_finalize()
        body: list[Any] = []
        for child in node.nodes:
            try:
                if not (finalize.const or isinstance(child, nodes.TemplateData)):
                    raise nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            except (nodes.Impossible, Exception):
                body.append(child)
                continue
            if body and isinstance(body[-1], list):
                body[-1].append(const)
            else:
                body.append([const])
        return body


# Callables whose own attributes say whether Jinja passes them the context (@pass_context sets
# `jinja_pass_arg`; functools.wraps copies it onto a cache wrapper).
_ASKED_BY_ATTRIBUTE = (FunctionType, _lru_cache_wrapper)


_JINJAS_OWN_ARGUMENTS = {"_block_vars", "_loop_vars"}  # what Jinja's code passes Context.call for itself


class FastContext(Context):
    """Jinja's context, calling a plain function (no @pass_context and kin) directly, and a block's
    `super()` too: Jinja asks every callable, on every call, whether it wants the context passed in."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        kind = type(__obj)
        if kind is BlockReference and not args and kwargs.keys() <= _JINJAS_OWN_ARGUMENTS:
            return __obj()  # a block's super(), which takes nothing: as Context.call finds, and calls it
        if kind is BuiltinFunctionType or kind in _ASKED_BY_ATTRIBUTE and "jinja_pass_arg" not in __obj.__dict__:
            for name in _JINJAS_OWN_ARGUMENTS:
                kwargs.pop(name, None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception")
        return super().call(__obj, *args, **kwargs)
