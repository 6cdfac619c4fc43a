"""Statements: assignments, expression statements and commands, `if`/`switch`, loops (each
pass a step of the budget), `try`/`catch` and `break`/`continue`/`return`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...diagnostics import Diagnostic, NetspecError, error
from ..builtins import Arg
from ..operators import OperatorError, truth
from ..spans import node_span
from ..tree import Token, Tree
from ..values import (Cell, Char, Container, CSList, Graph, LayerArray, Matrix, Opaque, Str, Struct, Value, numel,
                      type_name)
from .state import Break, Continue, Return, Scope, State, token_text

__all__ = ["Statements"]

MAX_UNDECIDED_PASSES = 1_000
"""Passes of a `while` loop that skip undecidable code before netspec stops the loop."""

_ASSIGNABLE = frozenset({"name", "call", "brace_index", "field", "dynamic_field", "placeholder"})
"""What the left of a multiple assignment may hold: a variable, a part of one, or `~`."""


class Statements(State):
    """`_block` and the statements it runs (imports are in `files.py`)."""

    def _block(self, statements: list, scope: Scope) -> None:
        for statement in statements:
            self._tick(statement)
            method = self._STATEMENTS.get(statement.data)
            method(self, statement, scope)

    def _run_body(self, statements: list, scope: Scope) -> None:
        """A file's or a function's statements: `return` ends them, and so does a `break` or
        `continue` outside any loop."""
        try:
            self._block(statements, scope)
        except (Return, Break, Continue):
            pass

    def _stmt_assign(self, node: Tree, scope: Scope) -> None:
        target, rhs = node.children
        if isinstance(target, Tree) and target.data == "matrix":
            self._multi_assign(node, target, rhs, scope)
            return
        root, steps = self._lvalue(target)
        if root in scope.pinned:
            return  # bound by --set: the command line wins over the file
        if rhs.data == "matrix" and not rhs.children and steps and steps[-1][0] == "paren":
            self._note_site(root, node, scope)
            self._delete(root, steps, scope, target)
            return
        value = self._eval(rhs, scope)
        if isinstance(value, CSList):
            value = value.items[0] if value.items else Matrix.empty()
        self._assign(root, steps, value, node, target, scope)

    def _assign(self, root: str, steps: list, value: Value, node: Tree, target: Tree, scope: Scope) -> None:
        """`root` (or the part of it `steps` name) = value."""
        if root in scope.pinned:
            return
        self._note_site(root, node, scope)
        if isinstance(value, Opaque) and value.variable is None and not steps and not value.structural \
                and scope.bindable:
            value = replace(value, variable=root)  # the first variable an unknown is given is the one to bind
        if not steps:
            scope.variables[root] = value
            return
        current = scope.variables.get(root)
        scope.variables[root] = self._assign_path(current, steps, value, target, scope)

    def _note_site(self, name: str, node: Tree, scope: Scope) -> None:
        """Where `name` was last assigned, kept in the order of the last assignments."""
        if scope.sites is not None:
            scope.sites.pop(name, None)
            scope.sites[name] = (node, self.file)

    def _multi_assign(self, node: Tree, target: Tree, rhs: Tree, scope: Scope) -> None:
        """`[a, ~, s.f] = f(...)`: each output to its place, `~` dropped."""
        elements = [element for row in target.children for element in row.children]
        for element in elements:
            if element.data not in _ASSIGNABLE:
                raise error("E113", "only variable names can receive multiple outputs, or their parts "
                            "(x(i), c{i}, s.f)", node_span(element, self.file), hint="write [a, b] = f(...)")
        values = self._eval_multi(rhs, scope, len(elements))
        for element, value in zip(elements, values):
            if element.data != "placeholder":
                root, steps = self._lvalue(element)
                self._assign(root, steps, value, node, element, scope)

    def _stmt_expr_stmt(self, node: Tree, scope: Scope) -> None:
        expr = node.children[0]
        if expr.data == "name":
            name = token_text(expr)
            if self._is_call(name, scope):
                self._call_function(name, [], 0, expr, scope)
            return
        if expr.data == "call" and expr.children[0].data == "name" and self._is_call(token_text(expr.children[0]), scope):
            args = self._args(expr.children[1] if len(expr.children) > 1 else None, scope)
            self._call_function(token_text(expr.children[0]), args, 0, expr, scope)
            return
        self._eval(expr, scope)

    def _stmt_command(self, node: Tree, scope: Scope) -> None:
        name = str(node.children[0])
        args = [Arg(Char(str(word)), node_span(word, self.file)) for word in node.children[1:]]
        self._call_function(name, args, 0, node, scope)

    def _stmt_if_stmt(self, node: Tree, scope: Scope) -> None:
        """The first clause whose condition holds runs. An unknown condition is taken as false,
        unless the branch that would then run ends in `return` or `error(...)` (see `_ends`)."""
        children = node.children
        clauses = [(children[0], children[1], "if")] + [
            (c.children[0], c.children[1], "elseif") if c.data == "elseif_clause" else (None, c.children[-1], "else")
            for c in children[2:]]
        undecided: list[tuple[Tree, Tree, str, Opaque]] = []
        chosen = None
        for condition, body, keyword in clauses:
            outcome = True if condition is None else self._test(condition, scope, keyword, quiet=True)
            if isinstance(outcome, Opaque):
                undecided.append((condition, body, keyword, outcome))
            elif outcome:
                chosen = (body, keyword)
                break
        instead = self._instead_of_ending(chosen, [(body, keyword) for _, body, keyword, _ in undecided])
        for condition, body, keyword, unknown in undecided:
            taken = instead is not None and body is instead[0]
            self._warn_unknown_condition(condition, keyword, unknown,
                                         f"treated as true, since the `{chosen[1]}` branch ends in `{_ends(chosen[0])}`"
                                         if taken else "treated as false")
        if instead is not None:
            chosen = instead
        elif undecided and _raises(chosen):
            chosen = None
        if chosen is not None:
            self._block(chosen[0].children, scope)
        self._unknown_after_skips([(body, unknown) for _, body, _, unknown in undecided
                                   if chosen is None or body is not chosen[0]], scope)

    @staticmethod
    def _instead_of_ending(chosen: tuple[Tree, str] | None, undecided: list[tuple[Tree, str]]) -> tuple | None:
        """The branch to run instead of `chosen` when `chosen` runs only because unknown conditions
        were taken as false and ends the run (`if exist('data.mat', 'file') ... else return; end`):
        the one undecided branch that does not end it. MATLAB users run such a file with what it
        checks for, and the network is built after it. When several would do, none is guessed."""
        if chosen is None or _ends(chosen[0]) is None:
            return None
        going_on = [clause for clause in undecided if _ends(clause[0]) is None]
        return going_on[0] if len(going_on) == 1 else None

    def _condition(self, node: Tree, scope: Scope, keyword: str) -> bool:
        return self._test(node, scope, keyword) is True

    def _test(self, node: Tree, scope: Scope, keyword: str, quiet: bool = False) -> bool | Opaque:
        """A condition's truth; an unknown condition is treated as false, with a warning (unless
        `quiet`: the caller warns), and returned so that the caller knows what the skipped code
        depends on."""
        value = self._eval(node, scope)
        if isinstance(value, Opaque):
            self.skipped += 1
            value = replace(value, compared_with=value.compared_with + _compared_texts(node, value.binding()))
            if not quiet:
                self._warn_unknown_condition(node, keyword, value, "treated as false")
            return value
        try:
            return truth(value)
        except OperatorError as exc:
            raise error("E115", str(exc), node_span(node, self.file)) from None

    def _warn_unknown_condition(self, node: Tree, keyword: str, value: Opaque, treated: str) -> None:
        self.warn("W102", f"this `{keyword}` depends on {value.describe()}, which netspec cannot compute; {treated}",
                  node_span(node, self.file),
                  hint=f"bind it with {value.set_option(value.binding())}" if value.binding() else None)

    def _unknown_after_skips(self, undecided: list[tuple[Tree, Opaque]], scope: Scope) -> None:
        """A variable only code skipped on an unknown condition would have set is unknown, and
        named by what the condition depends on (binding that runs the right branch)."""
        for body, unknown in undecided:
            for name in _assigned(body):
                if name not in scope.variables and name not in scope.pinned:
                    scope.variables[name] = replace(unknown, structural=True)

    def _stmt_switch_stmt(self, node: Tree, scope: Scope) -> None:
        """The first `case` that matches runs, else `otherwise`. On an unknown subject no case
        matches, unless `otherwise` ends the run (see `_instead_of_ending`)."""
        subject = self._eval(node.children[0], scope)
        clauses = node.children[1:]
        if isinstance(subject, Opaque):
            self._unknown_switch(node, subject, scope)
            return
        for clause in clauses:
            if clause.data == "otherwise_clause":
                self._block(clause.children[-1].children, scope)
                break
            candidates = self._eval(clause.children[0], scope)
            options = candidates.items if isinstance(candidates, Cell) else [candidates]
            if any(self._switch_match(subject, option) for option in options):
                self._block(clause.children[1].children, scope)
                break

    def _unknown_switch(self, node: Tree, subject: Opaque, scope: Scope) -> None:
        self.skipped += 1
        clauses = node.children[1:]
        cases = tuple(text for clause in clauses if clause.data != "otherwise_clause"
                      for text in _literal_texts(clause.children[0])) \
            if subject.binding() is not None and _names(node.children[0], subject.binding()) else ()
        subject = replace(subject, compared_with=subject.compared_with + cases)
        undecided = [(clause.children[1], "case") for clause in clauses if clause.data != "otherwise_clause"]
        otherwise = next(((clause.children[-1], "otherwise") for clause in clauses
                          if clause.data == "otherwise_clause"), None)
        instead = self._instead_of_ending(otherwise, undecided)
        treated = f"its one `case` that does not end the run is taken, since `otherwise` ends in " \
                  f"`{_ends(otherwise[0])}`" if instead is not None else "no `case` matches it"
        self._warn_unknown_condition(node.children[0], "switch", subject, treated)
        chosen = instead or (None if _raises(otherwise) else otherwise)
        if chosen is not None:
            self._block(chosen[0].children, scope)
        self._unknown_after_skips([(body, subject) for body, _ in undecided if chosen is None or body is not chosen[0]],
                                  scope)

    @staticmethod
    def _switch_match(subject: Value, option: Value) -> bool:
        if isinstance(subject, (Char, Str)) and isinstance(option, (Char, Str)):
            return subject.text == option.text
        if isinstance(subject, Matrix) and isinstance(option, Matrix) and subject.is_scalar() and option.is_scalar():
            return subject.data[0] == option.data[0]
        return False

    def _stmt_for_stmt(self, node: Tree, scope: Scope) -> None:
        """`for k = v` or `for (k = v)`; also `parfor`, whose most workers (`parfor (k = v, M)`)
        netspec does not evaluate."""
        variable, iterable_node, body = node.children[0], node.children[1], node.children[-1]
        name = str(variable)
        iterable = self._eval(iterable_node, scope)
        if isinstance(iterable, Opaque):
            self.skipped += 1
            self.warn("W101", f"the loop over {iterable.describe()} is skipped: netspec cannot compute its range",
                      node_span(iterable_node, self.file),
                      hint=f"bind it with --set {iterable.binding()}=VALUE" if iterable.binding() else None)
            self._unknown_after_loop(body, iterable, scope)
            return
        if name not in scope.pinned and numel(iterable):
            self._note_site(name, node, scope)
        for item in self._iterate(iterable, iterable_node):
            self._tick(node)
            if name not in scope.pinned:
                scope.variables[name] = item
            try:
                self._block(body.children, scope)
            except Break:
                break
            except Continue:
                continue

    _stmt_parfor_stmt = _stmt_for_stmt  # without a parallel pool MATLAB runs `parfor` as a `for` loop

    def _stmt_spmd_stmt(self, node: Tree, scope: Scope) -> None:
        """Without a parallel pool MATLAB runs an `spmd` body once, on the client (`labindex` is 1)."""
        self._block(node.children[-1].children, scope)

    def _unknown_after_loop(self, body: Tree, iterable: Opaque, scope: Scope) -> None:
        """After a skipped loop, the data its body assigns is unknown (`D = []; for ... D = [D x]`),
        and so are layers it would have built from none; layers built before it keep what they
        have (W101 says the loop was skipped)."""
        for name in _assigned(body):
            value = scope.variables.get(name)
            if name not in scope.pinned and not isinstance(value, Opaque) \
                    and not (isinstance(value, (LayerArray, Graph)) and value.layers):
                scope.variables[name] = replace(iterable, structural=True)  # binding the range runs the loop

    def _iterate(self, value: Value, node: Tree) -> Iterator[Value]:
        """What the loop variable is on each pass: an array's columns, a string's characters."""
        if isinstance(value, Str):
            value = Char(value.text)
        if not isinstance(value, Container):
            raise error("E114", f"cannot loop over a {type_name(value)}", node_span(node, self.file))
        return value.columns()

    def _stmt_while_stmt(self, node: Tree, scope: Scope) -> None:
        """A `while` loop; one whose passes keep skipping code netspec cannot decide (so may never
        change its condition) is stopped after MAX_UNDECIDED_PASSES of them, with a warning."""
        condition, body = node.children
        undecided = 0
        while self._condition(condition, scope, "while"):
            self._tick(node)
            skipped = self.skipped
            try:
                self._block(body.children, scope)
            except Break:
                break
            except Continue:
                pass
            undecided += self.skipped != skipped
            if undecided >= MAX_UNDECIDED_PASSES:
                self.warn("W108", f"netspec stops this `while` loop after {undecided:,} passes that depend on "
                          "values it cannot compute", node_span(condition, self.file),
                          hint="its condition may never change as netspec runs it")
                break

    def _stmt_try_stmt(self, node: Tree, scope: Scope) -> None:
        """The try body runs; the catch body runs instead of its rest only when netspec fails in
        it (what MATLAB would do is not known then). The budgets' errors (E5xx) end the load."""
        body, catch = node.children[0], (node.children[1] if len(node.children) > 1 else None)
        try:
            self._block(body.children, scope)
        except NetspecError as exc:
            failure = exc.diagnostic
            if failure.code.startswith("E5"):
                raise
            if failure.code != "E149":  # the code's own error(...): MATLAB's catch runs too, nothing to warn of
                self.warn("W106", f"netspec failed in this `try` body ({failure.code}: {failure.message}); "
                          + ("its `catch` body runs instead" if catch is not None else "the rest of it is skipped"),
                          failure.span or node_span(node, self.file), hint=failure.hint)
            if catch is not None:
                self._catch(catch, failure, scope)

    def _catch(self, clause: Tree, failure: Diagnostic, scope: Scope) -> None:
        """The catch body, with `catch ME`'s ME as an MException-like struct."""
        name = str(clause.children[0]) if isinstance(clause.children[0], Token) else None
        if name is not None and name not in scope.pinned:
            scope.variables[name] = Struct({"message": Char(failure.message),
                                            "identifier": Char(f"netspec:{failure.code}"), "stack": Struct({})})
        self._block(clause.children[-1].children, scope)

    def _stmt_break_stmt(self, node: Tree, scope: Scope) -> None:
        raise Break()

    def _stmt_continue_stmt(self, node: Tree, scope: Scope) -> None:
        raise Continue()

    def _stmt_return_stmt(self, node: Tree, scope: Scope) -> None:
        raise Return()

    def _stmt_function_def(self, node: Tree, scope: Scope) -> None:
        """A script's local function was hoisted before the script ran; the nested functions written
        in a function's body are its own (`Calls._function_def`), so one reached here is in a block."""
        if scope.function is not None:
            raise error("E116", "a function cannot be defined inside a block of another function",
                        node_span(node, self.file),
                        hint="define it directly in the body of the function (a nested function), or after its end")


_ENDING_CALLS = frozenset({"error", "quit", "exit"})


def _raises(clause: tuple[Tree, str] | None) -> bool:
    """Whether a branch reached only because unknown conditions were guessed raises `error(...)`:
    MATLAB would raise it only for the values that lead there, so netspec does not run it (the
    names the network then misses are what the user binds)."""
    return clause is not None and _ends(clause[0]) == "error"


def _ends(body: Tree) -> str | None:
    """What ends the run in a branch's own statements (`return`, `error`), if anything does:
    only its top level is looked at, where it ends the run whenever the branch runs."""
    for statement in body.children:
        if statement.data == "return_stmt":
            return "return"
        if statement.data == "command" and str(statement.children[0]) in _ENDING_CALLS:
            return str(statement.children[0])
        if statement.data == "expr_stmt":
            expr = statement.children[0]
            callee = expr.children[0] if expr.data == "call" else expr
            if _names(callee) and token_text(callee) in _ENDING_CALLS:
                return token_text(callee)
    return None


def _assigned(body: Tree) -> set[str]:
    """The variables a block assigns (at any depth, loop variables included)."""
    names: set[str] = set()
    stack: list = [body]
    while stack:
        node = stack.pop()
        if not isinstance(node, Tree) or node.data in ("function_def", "anon_fn"):
            continue
        if node.data == "assign":
            target = node.children[0]
            targets = [e for row in target.children for e in row.children] if target.data == "matrix" else [target]
            for element in targets:
                while element.data in ("call", "brace_index", "field", "dynamic_field"):
                    element = element.children[0]
                if element.data == "name":
                    names.add(token_text(element))
        elif node.data in ("for_stmt", "parfor_stmt"):
            names.add(str(node.children[0]))
        stack.extend(node.children)
    return names


_TEXT_COMPARISONS = frozenset({"strcmp", "strcmpi", "isequal", "matches"})


def _literal_texts(node: Tree) -> tuple[str, ...]:
    """The text literals of an expression (`'max'`, `{'max', "avg"}`), in order."""
    if not isinstance(node, Tree):
        return ()
    if node.data in ("char_string", "string"):
        quote = str(node.children[0])[0]
        return (str(node.children[0])[1:-1].replace(quote * 2, quote),)
    return tuple(text for child in node.children for text in _literal_texts(child))


def _names(node: Tree | Token, name: str | None = None) -> bool:
    """Whether the expression is a bare name (`name` itself, when given)."""
    return isinstance(node, Tree) and node.data == "name" and (name is None or token_text(node) == name)


def _compared_texts(node: Tree, name: str | None) -> tuple[str, ...]:
    """The texts a condition compares the variable `name` with: the literals given with it to
    strcmp, strcmpi, isequal or matches, or on the other side of `==` (`strcmp(poolType, 'max')`,
    `mode == "fast"`). None when the condition compares no such name."""
    if name is None or not isinstance(node, Tree):
        return ()
    if node.data == "call" and _names(node.children[0]) and token_text(node.children[0]) in _TEXT_COMPARISONS \
            and len(node.children) > 1 and any(_names(arg, name) for arg in node.children[1].children):
        return _literal_texts(node.children[1])
    if node.data == "chain" and len(node.children) == 3 and isinstance(node.children[1], Token) \
            and node.children[1].type == "EQ" and any(_names(side, name) for side in node.children[::2]):
        return tuple(text for side in node.children[::2] for text in _literal_texts(side))
    return tuple(text for child in node.children for text in _compared_texts(child, name))
