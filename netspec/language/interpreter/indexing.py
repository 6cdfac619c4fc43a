"""Indexing and assignment: reading and writing parts of values (`x(i)`, `x(i,j)`, `c{i}`,
`s.f`, `s.(name)`, `end`), MATLAB's growth rule, and deletion (`x(i) = []`).

What an index selects, stores or deletes is the same for every kind of array: the
`Container` protocol of `values.py` (elements, shape, a new array of the same kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pydantic import ValidationError

from ...diagnostics import error, suggest
from ...ir import option_key
from ..builtins import BuiltinError
from ..library import from_python, graph_property, layer_property, learnable_value, to_python
from ..spans import node_span
from ..tree import Tree
from ..values import (Cell, Char, Container, CSList, FunctionHandle, Graph, LayerArray, Matrix, Opaque,
                      OptionsValue, Str, Struct, Table, Value, numel, size_of, type_name)
from .state import SIZE_HINT, EndContext, Scope, State, token_text

__all__ = ["Indexing"]

_GAP = object()
"""Where a store grows an array that cannot have gaps (a layer array) without setting a value."""


class Indexing(State):
    """Parts of values, read and written."""

    def _e_end_index(self, node: Tree, scope: Scope) -> Value:
        if not self._ends:
            raise error("E117", "`end` is used outside of indexing", node_span(node, self.file),
                        hint="`end` means the last index only inside x(...) or c{...}")
        context = self._ends[-1]
        if isinstance(context.value, Opaque):
            return context.value
        rows, cols = size_of(context.value)
        if context.count == 1:
            extent = numel(context.value)
        elif context.position == 0:
            extent = rows
        elif context.position == 1:
            extent = cols
        else:
            extent = 1
        return Matrix.scalar(float(extent))

    def _e_field(self, node: Tree, scope: Scope) -> Value:
        target, name_token = node.children
        if target.data in ("function_handle", "field") and (handle := _handle_name(node)) is not None:
            return FunctionHandle(name=handle)
        value = self._eval(target, scope)
        return self._get_field(value, str(name_token), node)

    def _e_dynamic_field(self, node: Tree, scope: Scope) -> Value:
        value = self._eval(node.children[0], scope)
        key = self._eval(node.children[1], scope)
        if isinstance(key, Opaque):
            return key
        if not isinstance(key, (Char, Str)):
            raise error("E124", "a dynamic field name must be text", node_span(node.children[1], self.file))
        return self._get_field(value, key.text, node)

    def _get_field(self, value: Value, name: str, node: Tree) -> Value:
        if isinstance(value, Opaque):
            if value.structural:  # a part of a known value an unknown index picks: the index stays to bind
                return value
            # binding `imds` to a number would not give `imds.Labels`; a network's Layers are layers too
            return replace(value, origin=f"{value.origin}.{name}", variable=None, free_name=False,
                           network=value.network and name == "Layers")
        if isinstance(value, Struct):
            if name in value.fields:
                return value.fields[name]
            guess = suggest(name, value.fields)
            raise error("E125", f"the struct has no field '{name}'", node_span(node, self.file),
                        hint=f"did you mean '{guess}'?" if guess else None)
        if isinstance(value, Table):
            if name in value.variables:
                return value.variables[name]
            raise error("E125", f"the table has no variable '{name}'", node_span(node, self.file),
                        hint=f"its variables are {', '.join(value.variables)}")
        if isinstance(value, Graph):
            result = graph_property(value, name)
            if result is not None:
                return result
            raise error("E125", f"a {value.kind} has no property '{name}'", node_span(node, self.file),
                        hint="it has Layers, Connections, InputNames and OutputNames")
        if isinstance(value, LayerArray):
            results = []
            for layer in value.layers:
                result = layer_property(layer, name)
                if result is None:
                    fields = [type(layer).matlab_option(f) for f in type(layer).option_fields().values()]
                    guess = suggest(name, fields)
                    raise error("E125", f"{layer.matlab} has no property '{name}'", node_span(node, self.file),
                                hint=f"did you mean '{guess}'?" if guess else None)
                results.append(result)
            return results[0] if len(results) == 1 else CSList(results)
        if isinstance(value, OptionsValue):
            fname = {option_key(f): f for f in type(value.options).model_fields}.get(option_key(name))
            if fname is not None and fname != "span":
                return from_python(getattr(value.options, fname))
        raise error("E125", f"a {type_name(value)} has no property '{name}'", node_span(node, self.file))

    def _e_brace_index(self, node: Tree, scope: Scope) -> Value:
        target = self._eval(node.children[0], scope)
        indices = self._index_args(node.children[1] if len(node.children) > 1 else None, target, scope)
        if isinstance(target, Opaque):
            if target.free_name and not target.structural:
                # `XTrain{1}`: binding the undefined `XTrain` to a number would not give it (a cell would)
                return replace(target, variable=None, free_name=False, reason=f"`{target.origin}` is never defined",
                               several=not _selects_one(indices))
            return target if _selects_one(indices) else replace(target, several=True)
        unknown = _unknown_index(indices, target)
        if unknown is not None:
            return replace(unknown, several=True)
        if not isinstance(target, Cell):
            raise error("E126", f"brace indexing needs a cell array, not a {type_name(target)}",
                        node_span(node, self.file), hint="use parentheses to index arrays")
        selected = self._select(target, indices, node)
        return selected.items[0] if len(selected.items) == 1 else CSList(list(selected.items))

    def _index_args(self, args_node: Tree | None, target: Value, scope: Scope) -> list:
        if args_node is None:
            return []
        children = args_node.children
        indices = []
        for position, child in enumerate(children):
            if child.data == "colon_all":
                indices.append(None)
                continue
            if child.data == "kwarg":
                raise error("E129", "Name=Value is not an index", node_span(child, self.file))
            self._ends.append(EndContext(target, position, len(children)))
            try:
                value = self._eval(child, scope)
            finally:
                self._ends.pop()
            if isinstance(value, CSList):
                value = value.items[0] if value.items else Matrix.empty()
            indices.append((value, child))
        return indices

    def _positions(self, spec, extent: int, node: Tree, growing: bool = False) -> list[int]:
        """0-based positions for one index (None = `:`); bounds are checked when reading."""
        if spec is None:
            return list(range(extent))
        value, child = spec
        if isinstance(value, Opaque):
            raise self._opaque_error(value, "an index")
        if not isinstance(value, Matrix):
            if isinstance(value, (Char, Str)):
                raise error("E130", f"cannot index with text '{value.text}'", node_span(child, self.file),
                            hint="index with numbers, or use a struct field")
            raise error("E130", f"cannot index with a {type_name(value)}", node_span(child, self.file))
        if value.logical:
            if len(value.data) > extent and any(value.data[extent:]):
                raise error("E131", f"logical index has {len(value.data)} elements but the array has {extent}",
                            node_span(child, self.file))
            return [i for i, x in enumerate(value.data) if x]
        positions = []
        for x in value.data:
            if not float(x).is_integer() or x < 1:
                shown = int(x) if float(x).is_integer() else x
                raise error("E131", f"index must be a positive whole number, got {shown}",
                            node_span(child, self.file), hint="MATLAB indices start at 1")
            if not growing and x > extent:
                raise error("E131", f"index {int(x)} is out of bounds: the array has {extent} element"
                            f"{'s' if extent != 1 else ''}", node_span(child, self.file),
                            hint="`end` is the last index")
            if x > self.limits.elements:
                raise error("E502", "index too large", node_span(child, self.file))
            positions.append(int(x) - 1)
        return positions

    def _select(self, value: Value, indices: list, node: Tree) -> Value:
        """`x(...)` read: the elements the indices select, each index checked against the bounds
        (an unknown index selects an unknown value)."""
        unknown = _unknown_index(indices, value)
        if unknown is not None:
            return unknown
        if isinstance(value, Graph):
            raise error("E132", f"cannot index a {value.kind}", node_span(node, self.file),
                        hint="use .Layers to get its layers, e.g. net.Layers(1:22)")
        if isinstance(value, (Struct, OptionsValue, FunctionHandle)):
            if all(spec is not None and isinstance(spec[0], Matrix) and spec[0].data == [1.0] for spec in indices):
                return value
            raise error("E132", f"cannot index a {type_name(value)}", node_span(node, self.file))
        if isinstance(value, Str) or not indices:
            return value
        rows, cols = size_of(value)
        if len(indices) == 1:
            positions = self._positions(indices[0], numel(value), node)
            if not isinstance(value, Container):
                return value  # a scalar indexed with 1
            spec = indices[0]
            shape_rows = (spec is None) or (isinstance(spec[0], Matrix) and spec[0].cols == 1 and spec[0].rows > 1)
            return value.take(positions, column=(rows > 1 and cols == 1) or (shape_rows and not (rows == 1)))
        for extra in indices[2:]:
            if self._positions(extra, 1, node) != [0]:
                raise error("E131", "index out of bounds in dimension 3", node_span(node, self.file))
        row_pos = self._positions(indices[0], rows, node)
        col_pos = self._positions(indices[1], cols, node)
        return value.take_grid(row_pos, col_pos) if isinstance(value, Container) else value

    def _lvalue(self, node: Tree) -> tuple[str, list]:
        steps: list = []
        while True:
            if node.data == "name":
                return token_text(node), list(reversed(steps))
            if node.data == "call":
                steps.append(("paren", node.children[1] if len(node.children) > 1 else None, node))
            elif node.data == "brace_index":
                steps.append(("brace", node.children[1] if len(node.children) > 1 else None, node))
            elif node.data == "field":
                steps.append(("field", str(node.children[1]), node))
            elif node.data == "dynamic_field":
                steps.append(("dynamic", node.children[1], node))
            else:
                raise error("E133", "cannot assign to this expression", node_span(node, self.file),
                            hint="the left of `=` is a variable, x(i), c{i} or s.field")
            node = node.children[0]

    def _assign_path(self, current: Value | None, steps: list, value: Value, node: Tree, scope: Scope) -> Value:
        """`current` with the part `steps` name set to `value`. A part of an unknown value, or a
        part an unknown index or field name names, leaves the whole unknown (so does an unknown
        value stored in an array that is not a cell array)."""
        kind, detail, step_node = steps[0]
        rest = steps[1:]
        if isinstance(current, Opaque):
            return current
        if kind == "dynamic":
            key = self._eval(detail, scope)
            if isinstance(key, Opaque):
                return key
            if not isinstance(key, (Char, Str)):
                raise error("E124", "a dynamic field name must be text", node_span(detail, self.file))
            kind, detail = "field", key.text
        if kind == "field":
            return self._set_field(current, detail, rest, value, step_node, scope)
        if kind == "paren" and rest and rest[0][0] in ("field", "dynamic") and _struct_like(current):
            return self._set_struct_element(current, detail, rest, value, node, step_node, scope)
        container = current if current is not None else self._empty_like(value if not rest else None, kind)
        indices = self._index_args(detail, container, scope)
        unknown = _unknown_index(indices, container)
        if unknown is not None:
            return unknown
        if isinstance(value, Opaque) and not rest and not isinstance(container, Cell) and kind == "paren":
            return value
        if rest:
            child = self._select(container, indices, step_node)
            if kind == "brace" and isinstance(child, Cell) and len(child.items) == 1:
                child = child.items[0]
            new_child = self._assign_path(child, rest, value, node, scope)
            if kind == "brace":
                return self._set_cell_item(container, indices, new_child, step_node)
            return self._set_index(container, indices, new_child, step_node)
        if kind == "brace":
            return self._set_cell_item(container, indices, value, step_node)
        return self._set_index(container, indices, value, step_node)

    def _set_struct_element(self, current: Value | None, detail: Tree | None, rest: list, value: Value, node: Tree,
                            step_node: Tree, scope: Scope) -> Value:
        """`s(1).f = v`: a struct is its own first element; a struct array (`s(2).f = v`) netspec
        does not hold, so the variable becomes unknown (an error only if the network needs it)."""
        indices = self._index_args(detail, current if current is not None else Struct({}), scope)
        if all(spec is not None and isinstance(spec[0], Matrix) and spec[0].data == [1.0] for spec in indices):
            return self._assign_path(current, rest, value, node, scope)
        return Opaque("struct array", node_span(step_node, self.file), reason="netspec holds no struct arrays")

    @staticmethod
    def _empty_like(value: Value | None, kind: str) -> Value:
        if kind == "brace" or isinstance(value, Cell):
            return Cell(0, 0, [])
        if isinstance(value, LayerArray):
            return LayerArray([])
        return Matrix.empty()

    def _set_field(self, current: Value | None, name: str, rest: list, value: Value, node: Tree,
                   scope: Scope) -> Value:
        if current is None or (isinstance(current, Matrix) and current.numel == 0):
            current = Struct({})
        if isinstance(current, Struct):
            child = current.fields.get(name)
            new_value = self._assign_path(child, rest, value, node, scope) if rest else value
            return Struct({**current.fields, name: new_value})
        if isinstance(current, LayerArray):
            if len(current.layers) != 1:
                raise error("E134", "set a property on one layer at a time: layers(i).Name = ...",
                            node_span(node, self.file))
            layer = current.layers[0]
            field = type(layer).option_fields().get(name.replace("_", "").lower())
            if field is None or field == "kind":
                guess = suggest(name, [type(layer).matlab_option(f) for f in type(layer).option_fields().values()])
                raise error("E125", f"{layer.matlab} has no property '{name}'", node_span(node, self.file),
                            hint=f"did you mean '{guess}'?" if guess else None)
            if rest:
                raise error("E133", "cannot assign inside a layer property", node_span(node, self.file))
            learnable = field in type(layer).learnable_options
            if isinstance(value, Opaque) and not learnable:
                return value
            updated = layer.model_copy()
            try:
                setattr(updated, field, learnable_value(self, type(layer), field, value, node_span(node, self.file))
                        if learnable else to_python(value))
            except ValidationError as exc:
                message = exc.errors()[0]["msg"]
                message = message[:1].lower() + message[1:]
                raise error("E206", f"invalid {name} for {layer.matlab}: {message.removeprefix('value error, ')}",
                            node_span(node, self.file)) from None
            except BuiltinError as exc:
                raise error("E206", f"invalid {name} for {layer.matlab}: {exc}",
                            node_span(node, self.file)) from None
            return LayerArray([updated])
        hint = ("a graph's Layers are read-only, as in MATLAB: take the layer out (layer = lgraph.Layers(i)), "
                "change it, and put it back with replaceLayer") if isinstance(current, Graph) else None
        raise error("E135", f"cannot set field '{name}' of a {type_name(current)}", node_span(node, self.file),
                    hint=hint)

    def _set_cell_item(self, container: Value, indices: list, value: Value, node: Tree) -> Value:
        if isinstance(container, Matrix) and container.numel == 0:
            container = Cell(0, 0, [])
        if not isinstance(container, Cell):
            raise error("E126", f"brace assignment needs a cell array, not a {type_name(container)}",
                        node_span(node, self.file))
        return self._store(container, indices, [value], node)

    def _set_index(self, container: Value, indices: list, value: Value, node: Tree) -> Value:
        if isinstance(value, Struct) and (isinstance(container, Struct) or _empty(container)):
            return self._struct_element(container, indices, value, node)
        if _empty(container):
            if isinstance(value, (LayerArray, Cell)):
                container = self._empty_like(value, "paren")  # `x = []; x(1) = layer`: x becomes a layer array
            indices = _colons_sized(indices, value)
        items = container.stored_elements(value) if isinstance(container, Container) else None
        if items is None:
            raise error("E136", f"cannot store a {type_name(value)} in a {type_name(container)}",
                        node_span(node, self.file))
        return self._store(container, indices, items, node)

    def _struct_element(self, container: Value, indices: list, value: Struct, node: Tree) -> Value:
        """`s(1) = struct(...)` on a struct or `[]` is the struct; another position makes a struct
        array (`el = []; el(2) = struct('a', 1)`), which netspec does not hold: an unknown value,
        an error only if the network needs it."""
        if isinstance(container, Struct) and set(container.fields) != set(value.fields):
            raise error("E136", "cannot store a struct with other fields in this struct (MATLAB: dissimilar "
                        "structures)", node_span(node, self.file), hint="give both structs the same fields")
        positions = [self._positions(spec, 1, node, growing=True) for spec in indices]
        if all(p == [0] for p in positions):
            return value
        return Opaque("struct array", node_span(node, self.file), reason="netspec holds no struct arrays")

    def _store(self, container: Container, indices: list, items: Sequence, node: Tree) -> Container:
        """Indexed assignment with MATLAB's growth rule (new elements are zeros / empty)."""
        if isinstance(container, LayerArray):
            appended = self._appended(container, indices, items, node)
            if appended is not None:
                return appended
        data = list(container.elements())
        rows, cols = container.shape()
        gap = container.gap_filler()
        filler = _GAP if gap is None else gap
        size = len(data)
        if len(indices) == 1:
            positions = self._positions(indices[0], len(data), node, growing=True)
            needed = max(positions, default=-1) + 1
            if needed > len(data):
                data.extend([filler] * (needed - len(data)))
                if rows <= 1:
                    rows, cols = (1 if data else 0), len(data)
                else:
                    rows = len(data)
            targets = positions
        else:
            row_pos = self._positions(indices[0], rows, node, growing=True)
            col_pos = self._positions(indices[1], cols, node, growing=True)
            new_rows, new_cols = max(rows, max(row_pos, default=-1) + 1), max(cols, max(col_pos, default=-1) + 1)
            if new_rows * new_cols > self.limits.elements:
                raise error("E502", f"the array would have {new_rows:,}x{new_cols:,} elements, more than netspec "
                            f"allows ({self.limits.elements:,})", node_span(node, self.file), hint=SIZE_HINT)
            if (new_rows, new_cols) != (rows, cols):
                grown = [filler] * (new_rows * new_cols)
                for c in range(cols):
                    for r in range(rows):
                        grown[c * new_rows + r] = data[c * rows + r]
                data, rows, cols = grown, new_rows, new_cols
            targets = [c * rows + r for c in col_pos for r in row_pos]
        if filler is _GAP and len(data) > size:
            written = set(targets)
            if any(item is _GAP and i not in written for i, item in enumerate(data)):
                raise error("E137", "a layer array cannot have gaps", node_span(node, self.file),
                            hint="append with layers(end+1) = ...")
        if len(data) > self.limits.elements:
            raise error("E502", "array too large", node_span(node, self.file))
        self._spend(len(data), node)  # the stored value is a new array: `x(n) = v` in a loop copies x each time
        if len(items) == 1:
            for t in targets:
                data[t] = items[0]
        elif len(items) == len(targets):
            for t, item in zip(targets, items):
                data[t] = item
        else:
            raise error("E138", f"cannot assign {len(items)} elements to {len(targets)} positions",
                        node_span(node, self.file))
        return container.rebuilt(rows, cols, data)

    def _appended(self, container: LayerArray, indices: list, items: list, node: Tree) -> LayerArray | None:
        """`layers(end+1) = layer`: the array grown where it is stored (see `LayerArray`), not copied."""
        if len(indices) != 1:
            return None
        count = len(container)
        if self._positions(indices[0], count, node, growing=True) != list(range(count, count + len(items))):
            return None
        return container.grown(items)

    def _delete(self, root: str, steps: list, scope: Scope, node: Tree) -> None:
        """`x(idx) = []` removes elements (a common way to drop a network's last layers), also from
        a field or an element of a variable (`d.data(1:2, :) = []`): the part is read, deleted
        from, and stored back as an assignment stores it."""
        path, (_, detail, step_node) = steps[:-1], steps[-1]
        current = scope.variables.get(root)
        if current is None:
            raise error("E140", f"undefined variable '{root}'", node_span(node, self.file))
        if isinstance(current, Opaque):
            return
        container = self._eval(step_node.children[0], scope) if path else current
        if isinstance(container, CSList):
            raise error("E139", "delete from one cell at a time: c{i}(idx) = []", node_span(node, self.file))
        remaining = container if isinstance(container, Opaque) else \
            self._deleted(container, detail, scope, step_node, node)
        scope.variables[root] = self._assign_path(current, path, remaining, node, scope) if path else remaining

    def _deleted(self, container: Value, detail: Tree | None, scope: Scope, step_node: Tree, node: Tree) -> Value:
        """What is left of `container` after `(idx) = []`: selected as `x(kept)` would select it (a
        matrix deleted from with one index becomes a row)."""
        indices = self._index_args(detail, container, scope)
        unknown = _unknown_index(indices, container)
        if unknown is not None:
            return unknown
        if len(indices) == 1:
            gone = set(self._positions(indices[0], numel(container), step_node))
            if not isinstance(container, Container):
                raise error("E139", f"cannot delete elements of a {type_name(container)}", node_span(node, self.file))
            rows, cols = container.shape()
            kept = [i for i in range(container.numel) if i not in gone]
            return container.take(kept, column=cols == 1 and rows > 1)
        if len(indices) != 2 or not isinstance(container, Container):
            raise error("E139", "delete with a single index", node_span(node, self.file))
        rows, cols = container.shape()
        if indices[0] is None:
            gone = set(self._positions(indices[1], cols, step_node))
            kept_rows, kept_cols = list(range(rows)), [c for c in range(cols) if c not in gone]
        elif indices[1] is None:
            gone = set(self._positions(indices[0], rows, step_node))
            kept_rows, kept_cols = [r for r in range(rows) if r not in gone], list(range(cols))
        else:
            raise error("E139", "delete whole rows or columns: x(i,:) = [] or x(:,j) = []", node_span(node, self.file))
        return container.take_grid(kept_rows, kept_cols)


def _empty(value: Value) -> bool:
    """MATLAB's `[]` (0x0 and numeric), which an indexed assignment turns into what it stores."""
    return isinstance(value, Matrix) and value.rows == 0 and value.cols == 0


def _colons_sized(indices: list, value: Value) -> list:
    """`x(:, 1) = v` or `x(:, :) = v` where x is `[]` or does not exist: MATLAB sizes each `:` from
    v (a 3x1 v makes a 3x1 x), as the existing extent of `:` is 0."""
    if len(indices) != 2 or all(spec is not None for spec in indices) or not isinstance(value, Container):
        return indices
    rows, cols = value.shape()
    if indices[0] is None and indices[1] is None:
        sizes = [rows, cols]
    else:
        given = indices[1] if indices[0] is None else indices[0]
        count = given[0].numel if isinstance(given[0], Matrix) and not given[0].logical else 0
        if count == 0 or value.numel % count:
            return indices
        sizes = [value.numel // count] * 2
    return [(Matrix.row([float(i + 1) for i in range(size)]), None) if spec is None else spec
            for spec, size in zip(indices, sizes)]


def _handle_name(node: Tree) -> str | None:
    """`@mytools.saveDetails`, which parses as fields of `@mytools`: a handle to a package function, by
    its dotted name (None for any other field access)."""
    parts: list[str] = []
    while node.data == "field":
        parts.append(str(node.children[1]))
        node = node.children[0]
    if node.data != "function_handle":
        return None
    return ".".join([token_text(node), *reversed(parts)])


def _struct_like(value: Value | None) -> bool:
    return value is None or isinstance(value, Struct) or (isinstance(value, Matrix) and value.numel == 0)


def _selects_one(indices: list) -> bool:
    """Whether brace indexing with these indices surely gives one value (every index a known scalar)."""
    return all(spec is not None and isinstance(spec[0], Matrix) and spec[0].is_scalar() and not spec[0].logical
               for spec in indices)


def _unknown_index(indices: list, container: Value | None) -> Opaque | None:
    """The first index netspec cannot compute, if any (None stands for `:`), as what the
    selection gives: for layers, an unknown whose variable keeps naming the index to bind."""
    unknown = next((spec[0] for spec in indices if spec is not None and isinstance(spec[0], Opaque)), None)
    if unknown is None or not isinstance(container, (LayerArray, Graph)):
        return unknown
    return replace(unknown, structural=True)
