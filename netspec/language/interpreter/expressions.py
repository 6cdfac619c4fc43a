"""Expressions: literals, names, operators (with MATLAB's precedence and short-circuits),
ranges, `[...]` concatenation and `{...}` cell arrays, function handles.

Indexing (`x(i)`, `c{i}`, `s.f`, `end`) is in `indexing.py`, calls in `calls.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ...diagnostics import Span, error
from ..builtins import Arg, expand, is_character_code
from ..operators import OperatorError, OperatorLimit, binary, order_chain, truth, unary
from ..spans import node_span
from ..tree import Token, Tree
from ..values import (Cell, Char, Container, CSList, FunctionHandle, Graph, LayerArray, Matrix, Opaque, Str,
                      SymbolicSize, Value, element_count, type_name)
from .state import WORK_HINT, Scope, State, token_text

__all__ = ["Expressions"]

_NOT_PLAIN_BINARY = frozenset({"&&", "||", ":"})
"""Operators a chain of one operator still evaluates in full: short-circuits, and ranges."""


_ELEMENTWISE_WITH_NUMBER = frozenset({"+", "-", "*", ".*", "/", "./", ".\\", ".^"})
"""Operators whose result, for an array and a number, has the array's size."""

SIZE_WORDS = frozenset({"height", "width"})
"""Functions of an array that real files use bare as variables of their own (`[height width 3]`
with the values set elsewhere): bare, they are unknown names (MATLAB's functions need an array)."""


@dataclass
class _PendingRange:
    """`a:b` inside an operator chain: a following `:c` makes it `a:b:c` (step b)."""

    start: Value
    stop: Value
    step: Value | None = None
    extended: bool = False


class Expressions(State):
    """`_eval` and the expressions that are neither indexing nor calls."""

    def _eval(self, node: Tree, scope: Scope) -> Value:
        return self._EXPRESSIONS[node.data](self, node, scope)

    def _e_number(self, node: Tree, scope: Scope) -> Value:
        return Matrix.scalar(float(node.children[0]))

    def _e_char_string(self, node: Tree, scope: Scope) -> Value:
        return Char(str(node.children[0])[1:-1].replace("''", "'"))

    def _e_string(self, node: Tree, scope: Scope) -> Value:
        return Str(str(node.children[0])[1:-1].replace('""', '"'))

    def _e_name(self, node: Tree, scope: Scope) -> Value:
        name = token_text(node)
        value = scope.variables.get(name)
        if value is not None:
            return value
        if name in scope.unset:
            return self._unset_parameter(name, node, scope)
        if name in SIZE_WORDS and name not in self.functions and name not in scope.nested:
            result = self._first(self._unknown(name, 1, node, node_span(node, self.file)), node)
        else:
            result = self._first(self._call_function(name, [], 1, node, scope), node)
        if isinstance(result, Opaque) and result.origin == name and result.reason is None \
                and name not in self.functions:
            return replace(result, free_name=True)
        return result

    def _e_paren(self, node: Tree, scope: Scope) -> Value:
        value = self._eval(node.children[0], scope)
        return value.items[0] if isinstance(value, CSList) and value.items else value

    def _e_placeholder(self, node: Tree, scope: Scope) -> Value:
        raise error("E118", "`~` stands for an ignored output only on the left of `=`", node_span(node, self.file))

    def _e_function_handle(self, node: Tree, scope: Scope) -> Value:
        return FunctionHandle(name=str(node.children[0]), nested=scope.nested)

    def _e_anon_fn(self, node: Tree, scope: Scope) -> Value:
        params = [str(t) for t in node.children[:-1] if isinstance(t, Token)]
        return FunctionHandle(params=params, body=node.children[-1], captured=dict(scope.variables),
                              nested=scope.nested)

    def _e_transpose(self, node: Tree, scope: Scope) -> Value:
        value = self._eval(node.children[0], scope)
        if isinstance(value, Container):
            return value.transposed()
        if isinstance(value, (Opaque, Str)):
            return value
        raise error("E119", f"cannot transpose a {type_name(value)}", node_span(node, self.file))

    def _e_unop(self, node: Tree, scope: Scope) -> Value:
        op, operand = node.children
        value = self._eval(operand, scope)
        return self._apply_unary(str(op), value, node)

    def _apply_unary(self, op: str, value: Value, node: Tree) -> Value:
        if isinstance(value, Opaque):
            return self._unknown_result(value, op, None, node)
        try:
            return unary("~" if op == "!" else op, value)
        except OperatorError as exc:
            raise error("E120", str(exc), node_span(node, self.file)) from None

    def _e_chain(self, node: Tree, scope: Scope) -> Value:
        children = node.children
        if len(children) == 3 and children[1] not in _NOT_PLAIN_BINARY and children[0].data != "unop" \
                and children[2].data != "unop":  # `n - 1`, `i < 2`: no precedence to work out
            left, right = self._eval_operand(children[0], scope)[1], self._eval_operand(children[2], scope)[1]
            return self._apply_binary(str(children[1]), left, right, node)
        operands = children[0::2]
        ops = [str(t) for t in children[1::2]]
        if any(op in ("&&", "||") for op in ops):
            return self._eval_lazy_chain(operands, ops, node, scope)
        values = [self._eval_operand(o, scope) for o in operands]
        result = order_chain(values, ops, lambda op, a, b: self._chain_binary(op, a, b, node),
                             lambda op, v: self._apply_unary(op, self._settle(v, node), node), lambda item: item)
        return self._settle(result, node)

    def _chain_binary(self, op: str, left, right, node: Tree):
        if op == ":":
            left, right = self._operand(left, node), self._operand(right, node)
            if isinstance(left, _PendingRange) and not left.extended:
                return _PendingRange(left.start, right, step=left.stop, extended=True)
            return _PendingRange(self._settle(left, node), right)
        return self._apply_binary(op, self._settle(left, node), self._settle(right, node), node)

    def _operand(self, item, node: Tree):
        return self._apply_prefixes(item, node) if isinstance(item, tuple) else item

    def _settle(self, item, node: Tree) -> Value:
        """Turn a chain intermediate (prefixed operand, pending range) into a value."""
        item = self._operand(item, node)
        if isinstance(item, _PendingRange):
            return self._range(item.start, item.step, self._settle(item.stop, node), node)
        return item

    def _eval_operand(self, operand: Tree, scope: Scope):
        """Evaluate an operand, keeping its prefix operators apart (see order_chain)."""
        prefixes = []
        while operand.data == "unop":
            prefixes.append(str(operand.children[0]))
            operand = operand.children[1]
        value = self._eval(operand, scope)
        if isinstance(value, CSList):
            value = value.items[0] if value.items else Matrix.empty()
        return (prefixes, value)

    def _apply_prefixes(self, item, node: Tree) -> Value:
        prefixes, value = item
        for prefix in reversed(prefixes):
            value = self._apply_unary(prefix, value, node)
        return value

    def _eval_lazy_chain(self, operands: list, ops: list[str], node: Tree, scope: Scope) -> Value:
        """`&&`/`||` short-circuit: build the tree first, evaluate it lazily."""
        tree = order_chain(operands, ops, lambda op, a, b: ("bin", op, a, b), lambda op, v: ("un", op, v),
                           self._split_unary)
        return self._run_lazy(tree, node, scope)

    def _run_lazy(self, item, node: Tree, scope: Scope) -> Value:
        """One node of `_eval_lazy_chain`'s tree (a method: a nested function calling itself is a
        reference cycle, left for the cyclic collector)."""
        if isinstance(item, Tree):
            return self._eval(item, scope)
        kind = item[0]
        if kind == "un":
            return self._apply_unary(item[1], self._run_lazy(item[2], node, scope), node)
        op, left, right = item[1], item[2], item[3]
        if op in ("&&", "||"):
            a = self._run_lazy(left, node, scope)
            if isinstance(a, Opaque):
                return a
            truth_a = self._truth(a, node)
            if op == "&&" and not truth_a:
                return Matrix.scalar(0.0, logical=True)
            if op == "||" and truth_a:
                return Matrix.scalar(1.0, logical=True)
            b = self._run_lazy(right, node, scope)
            if isinstance(b, Opaque):
                return b
            return Matrix.scalar(float(self._truth(b, node)), logical=True)
        return self._apply_binary(op, self._run_lazy(left, node, scope), self._run_lazy(right, node, scope), node)

    @staticmethod
    def _split_unary(operand: Tree):
        prefixes = []
        while operand.data == "unop":
            prefixes.append(str(operand.children[0]))
            operand = operand.children[1]
        return prefixes, operand

    def _truth(self, value: Value, node: Tree) -> bool:
        try:
            return truth(value)
        except OperatorError as exc:
            raise error("E115", str(exc), node_span(node, self.file)) from None

    def _apply_binary(self, op: str, left: Value, right: Value, node: Tree) -> Value:
        if op == ":":
            return self._range(left, None, right, node)
        if isinstance(left, Opaque):
            return self._unknown_result(left, op, right, node)
        if isinstance(right, Opaque):
            return self._unknown_result(right, op, left, node, unknown_first=False)
        if isinstance(left, Matrix) and left.numel == 0 and isinstance(right, Matrix) and right.numel == 0 \
                and op not in ("+", "-"):
            return Matrix.empty()
        if op == "*" and isinstance(left, Matrix) and isinstance(right, Matrix) \
                and not (left.is_scalar() or right.is_scalar()) and left.cols == right.rows:
            self._charge_product(left, right, node)
        try:
            return self._charge(binary(op, left, right), node)
        except OperatorLimit as exc:
            raise self._limit_error(exc, "", node) from None
        except OperatorError as exc:
            raise error("E120", str(exc), node_span(node, self.file)) from None

    def _unknown_result(self, unknown: Opaque, op: str, other: Value | None, node: Tree,
                        unknown_first: bool = True) -> Opaque:
        """An operation on an unknown value is unknown. Only a known size survives, through
        arithmetic with a number (`randn(5,5,3,32)*0.01`), and the numbers of an array of more
        than two dimensions with it (`zeros(1,1,32) + 0.1`)."""
        if unknown.size is None:
            return unknown
        if op not in _ELEMENTWISE_WITH_NUMBER or (other is not None and not (
                isinstance(other, Matrix) and other.is_scalar() and not other.logical)):
            return replace(unknown, size=None, values=None)
        if unknown.values is None:
            return unknown
        numbers = Matrix.row(unknown.values)
        if other is None:
            return replace(unknown, values=self._apply_unary(op, numbers, node).data)
        left, right = (numbers, other) if unknown_first else (other, numbers)
        return replace(unknown, values=self._apply_binary(op, left, right, node).data)

    def _charge_product(self, left: Matrix, right: Matrix, node: Tree) -> None:
        """Count a matrix product's multiply-adds against the work budget before doing them."""
        cost = left.rows * left.cols * right.cols
        if cost > self.limits.work:
            raise error("E501", f"the product {left.rows}x{left.cols} * {right.rows}x{right.cols} is more work "
                        f"than netspec allows ({cost:,} multiply-adds, the limit is {self.limits.work:,})",
                        node_span(node, self.file), label="too much work", hint=WORK_HINT)
        self.work += cost
        if self.work > self.limits.work:
            self._charge(Matrix.empty(), node)

    def _range(self, start: Value, step: Value | None, stop: Value, node: Tree) -> Value:
        for part in (start, step, stop):
            if isinstance(part, Opaque):
                return part
        numbers = []
        for part in (start, step, stop):
            if part is None:
                numbers.append(1.0)
                continue
            if not isinstance(part, Matrix) or part.numel == 0:
                return Matrix(1, 0, [])
            numbers.append(part.data[0])
        a, s, b = numbers
        if math.isnan(a) or math.isnan(b) or math.isnan(s):
            return Matrix.scalar(math.nan)  # MATLAB: a NaN operand gives NaN
        if s == 0 or (s > 0 and a > b) or (s < 0 and a < b):
            return Matrix(1, 0, [])
        span = (b - a) / s
        if not math.isfinite(span) or span > self.limits.elements:
            raise error("E502", f"the range {a:g}:{s:g}:{b:g} has more elements than netspec allows "
                        f"({self.limits.elements:,})", node_span(node, self.file))
        count = int(math.floor(span + 1e-10)) + 1
        if count > self.limits.elements:
            raise error("E502", f"the range has {count:,} elements, more than netspec allows "
                        f"({self.limits.elements:,})", node_span(node, self.file))
        self.work += count
        if self.work > self.limits.work:
            self._charge(Matrix.empty(), node)
        if count == 1:
            return Matrix.scalar(a)  # `1:Inf:10` is 1, not 1 + 0*Inf
        return Matrix.row([a + i * s for i in range(count)])

    def _e_matrix(self, node: Tree, scope: Scope) -> Value:
        if all(element.data == "number" for row in node.children for element in row.children):
            # numbers written out (`[1 16 1 1; 6 24 2 2]`, or half a million on one line): one row
            # of floats per row, rather than a scalar Matrix per number first
            rows = [[Matrix.row([float(element.children[0]) for element in row.children])] for row in node.children]
        else:
            rows = [expand([self._eval(e, scope) for e in row.children]) for row in node.children]
            symbolic = _symbolic_size(node, rows)
            if symbolic is not None:
                return symbolic
        return self._concatenate(rows, node)

    def _e_cell_array(self, node: Tree, scope: Scope) -> Value:
        grid = [expand([self._eval(e, scope) for e in row.children]) for row in node.children]
        several = next((v for row in grid for v in row if isinstance(v, Opaque) and v.several), None)
        if several is not None:  # `{c{idx}}`: as many cells as `idx` selects, which is not known
            return replace(several, several=False, structural=False,
                           reason=several.reason or "a cell array of values picked by an index netspec cannot compute")
        return self._cell_grid([r for r in grid if r], node)

    def _scoped_horzcat(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> Value:
        """`horzcat(a, b, ...)` is `[a b ...]`."""
        return self._concatenate([[arg.value for arg in args]], node)

    def _scoped_vertcat(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> Value:
        """`vertcat(a, b, ...)` is `[a; b; ...]`."""
        return self._concatenate([[arg.value] for arg in args], node)

    def _scoped_cat(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> Value:
        """`cat(1, ...)` is vertcat, `cat(2, ...)` horzcat; along a third or later dimension the
        result has more than two dimensions, which netspec does not hold: it is unknown."""
        if not args:
            raise error("E201", "cat needs the dimension first", node_span(node, self.file))
        if isinstance(args[0].value, Opaque):
            return args[0].value
        first = args[0].value
        whole = isinstance(first, Matrix) and first.is_scalar() and float(first.data[0]).is_integer()
        dim = int(first.data[0]) if whole else 0
        if dim < 1:
            raise error("E205", "cat's first argument is the dimension, a positive whole number",
                        args[0].span or node_span(node, self.file))
        if dim > 2:
            return Opaque("cat", node_span(node, self.file), reason=f"an array joined along dimension {dim}")
        rest = args[1:]
        return self._scoped_vertcat(rest, nargout, node, scope) if dim == 1 else \
            self._scoped_horzcat(rest, nargout, node, scope)

    def _concatenate(self, rows: list[list[Value]], node: Tree) -> Value:
        """MATLAB's [a b; c d]: numbers into a matrix, text joined, layer arrays spliced."""
        result = self._concatenate_values(rows, node)
        if not isinstance(result, LayerArray):  # a layer array counts its own work (_concatenate_layers)
            self._charge(result, node)
        size = element_count(result)
        limit = self.limits.layers if isinstance(result, LayerArray) else self.limits.elements
        if size > limit:
            raise error("E502", f"the array has {size:,} elements, more than netspec allows ({limit:,})",
                        node_span(node, self.file), hint="netspec bounds array sizes; check the loop that grows it")
        return result

    def _concatenate_values(self, rows: list[list[Value]], node: Tree) -> Value:
        flat = [v for row in rows for v in row]
        unknown = next((value for value in flat if isinstance(value, Opaque)), None)
        if unknown is not None:  # an unknown among layers is a layer (unless a number inside one is unknown)
            layered = not unknown.structural and any(isinstance(v, (LayerArray, Graph)) for v in flat)
            return replace(unknown, network=True) if layered else unknown
        if not flat:
            return Matrix.empty()
        if any(isinstance(v, (LayerArray, Graph)) for v in flat):
            return self._concatenate_layers(flat, rows, node)
        if any(isinstance(v, Cell) for v in flat):
            return self._concat_cells(rows, node)
        if any(isinstance(v, Str) for v in flat):
            texts = [self._text_of(v, node, rows) for v in flat]
            return Str("".join(texts)) if len(texts) == 1 else Cell.row([Str(t) for t in texts]) \
                if all(isinstance(v, Str) for v in flat) else Str("".join(texts))
        if any(isinstance(v, Char) for v in flat):
            row_texts = []
            for row in rows:
                row_texts.append("".join(self._text_of(v, node, rows) for v in row))
            row_texts = [t for t in row_texts if t]
            if len(row_texts) > 1:
                raise error("E122", "netspec does not support char matrices (text stacked in rows)",
                            node_span(node, self.file), hint="use a cell array {'ab'; 'cd'} for a list of names")
            return Char(row_texts[0] if row_texts else "")
        return self._concat_numbers(rows, node)

    def _concatenate_layers(self, flat: list[Value], rows: list[list[Value]], node: Tree) -> LayerArray:
        """Layer arrays spliced. `[layers; block]` grows `layers` where it is stored (see
        `LayerArray`), so only the layers written count as work, not the whole array again."""
        arrays = []
        for value in flat:
            if isinstance(value, LayerArray):
                arrays.append(value)
            elif not (isinstance(value, Matrix) and value.numel == 0):
                element = self._element_node(node, rows, value)
                raise error("E121", f"cannot put a {type_name(value)} in a layer array",
                            node_span(element or node, self.file), label="not a layer" if element else None,
                            hint="a layer array holds layers only; a layer graph is combined with addLayers")
        first, more = arrays[0], [layer for array in arrays[1:] for layer in array.layers]
        self._spend(len(more) if first.is_latest() else len(first) + len(more), node)
        return first.grown(more)

    def _text_of(self, value: Value, node: Tree, rows: list[list[Value]]) -> str:
        if isinstance(value, (Char, Str)):
            return value.text
        if isinstance(value, Matrix):
            return "".join(chr(int(x)) for x in value.data if is_character_code(x))
        raise error("E121", f"cannot join a {type_name(value)} with text", self._element_span(node, rows, value))

    def _concat_numbers(self, rows: list[list[Value]], node: Tree) -> Matrix:
        blocks: list[Matrix] = []
        for row in rows:
            parts = []
            for value in row:
                if not isinstance(value, Matrix):
                    raise error("E121", f"cannot put a {type_name(value)} in a numeric array",
                                self._element_span(node, rows, value))
                if value.numel:
                    parts.append(value)
            if not parts:
                continue
            height = parts[0].rows
            if any(p.rows != height for p in parts):
                raise error("E123", "dimensions of arrays being concatenated are not consistent",
                            node_span(node, self.file),
                            hint="every element of a row must have the same number of rows")
            data: list[float] = []
            for p in parts:
                data.extend(p.data)
            blocks.append(Matrix(height, sum(p.cols for p in parts), data, all(p.logical for p in parts)))
        if not blocks:
            return Matrix.empty()
        if len(blocks) == 1:
            result = blocks[0]
        else:
            width = blocks[0].cols
            if any(b.cols != width for b in blocks):
                raise error("E123", "dimensions of arrays being concatenated are not consistent",
                            node_span(node, self.file), hint="every row must have the same number of columns")
            height = sum(b.rows for b in blocks)
            data = [0.0] * (height * width)
            offset = 0
            for b in blocks:
                for c in range(width):
                    for r in range(b.rows):
                        data[c * height + offset + r] = b.data[c * b.rows + r]
                offset += b.rows
            result = Matrix(height, width, data, all(b.logical for b in blocks))
        if result.numel > self.limits.elements:
            raise error("E502", "array too large", node_span(node, self.file))
        return result

    def _concat_cells(self, rows: list[list[Value]], node: Tree) -> Cell:
        grid: list[list[Value]] = []
        for row in rows:
            items: list[Value] = []
            for value in row:
                if isinstance(value, Cell):
                    items.extend(value.items)
                elif isinstance(value, Matrix) and value.numel == 0:
                    continue
                else:
                    items.append(value)
            if items:
                grid.append(items)
        return self._cell_grid(grid, node)

    def _cell_grid(self, grid: list[list[Value]], node: Tree) -> Cell:
        if not grid:
            return Cell(0, 0, [])
        width = len(grid[0])
        if any(len(r) != width for r in grid):
            raise error("E123", "rows of a cell array must have the same number of elements",
                        node_span(node, self.file))
        items = [grid[r][c] for c in range(width) for r in range(len(grid))]
        return Cell(len(grid), width, items)

    def _element_node(self, node: Tree, rows: list[list[Value]], value: Value) -> Tree | None:
        """The element of the array `node` (evaluated to `rows`) that gave `value`.

        Only for a diagnostic: the element is found by identity; None when a comma-separated
        list (`layers.Name`) changed the count of its row, so its node is not known.
        """
        if node.data in ("matrix", "cell_array"):
            for row, row_node in zip(rows, node.children):
                for position, item in enumerate(row):
                    if item is value:
                        return row_node.children[position] if len(row) == len(row_node.children) else None
        return None

    def _element_span(self, node: Tree, rows: list[list[Value]], value: Value) -> Span | None:
        """Where the element `value` of the array `node` is written, else the whole array."""
        return node_span(self._element_node(node, rows, value) or node, self.file)


def _symbolic_size(node: Tree, rows: list[list[Value]]) -> SymbolicSize | None:
    """`[H W 3]` with H and W never defined: a size of symbols and numbers, one row written out.
    A symbol is an undefined name itself: an expression of one (`2*H`) or a variable computed from
    one (`n = size(XTrain{1}, 1)`) is an unknown value to bind, not the symbol it comes from."""
    written = node.children[0].children if len(node.children) == 1 else []
    if len(rows) != 1 or len(written) != len(rows[0]):
        return None
    symbols = [isinstance(v, Opaque) and v.free_name and e.data == "name" and token_text(e) == v.origin
               for e, v in zip(written, rows[0])]
    if not any(symbols) or not all(symbol or (isinstance(v, Matrix) and v.is_scalar())
                                   for symbol, v in zip(symbols, rows[0])):
        return None
    return SymbolicSize([v.origin if symbol else v.data[0] for symbol, v in zip(symbols, rows[0])])
