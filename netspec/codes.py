"""Every diagnostic code netspec reports, explained: `netspec explain CODE` and docs/codes.md.

The registry is data: a title, what the code means and why netspec stops or warns, a minimal
example that sets it off, and the fix. `tests/test_codes.py` holds it to the program: every
code the source emits is here (and nothing else), and every example whose command needs only
its spec is run and must report exactly its code. `python -m netspec.codes docs/codes.md`
writes the reference page from it.
"""

from __future__ import annotations

import difflib
import re
import sys
import textwrap
from dataclasses import dataclass

from .diagnostics import Severity

__all__ = ["Code", "CODES", "FAMILIES", "explanation", "closest_codes", "markdown"]

CHECK = "netspec check example.net"
ANALYZE = "netspec analyze example.net"
EXPORT = "netspec export example.net -o model.onnx"
TRAIN = "netspec train example.net"
DIGITS = """\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 8)
    reluLayer
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
"""
"""A small classifier of 28×28 grey images, for the examples whose code comes from the data or the run."""


@dataclass(frozen=True)
class Code:
    """One diagnostic code: what `netspec explain` prints and docs/codes.md lists."""

    title: str
    explanation: str
    fix: str
    severity: Severity = Severity.error
    example: str = ""
    """A minimal spec that sets the code off, saved as example.net ("" when the command needs none)."""
    command: str = CHECK
    """The command that shows it, run in example.net's folder ("" when no input reproduces the code)."""
    needs: str = ""
    """What the command needs besides example.net (a trained run, an image folder); the tests run
    every command that needs nothing more."""
    also: tuple[str, ...] = ()
    """Other codes the example necessarily reports too (an unknown name's W105 warning before E407)."""


FAMILIES = {
    "E": "Errors in a spec: reading it, syntax, evaluation, layers, graphs, the network, limits, imports",
    "W": "Warnings about a spec",
    "A": "Analysis: structure, shapes, receptive fields and layer order",
    "T": "Building a PyTorch model from a spec (export, train)",
    "F": "Files netspec writes",
    "X": "Export with trained weights",
    "C": "Checkpoints",
    "D": "Training data and images",
    "R": "Training and evaluation runs",
    "P": "Prediction with an ONNX model",
    "V": "Looking inside a trained network (`netspec visualize`)",
}
"""The code families by their letter, in the order of the pipeline (and of docs/codes.md)."""

WARNING = Severity.warning

CODES: dict[str, Code] = {
    # -- E0xx: the spec file and the command line ------------------------------------------------
    "E001": Code(
        "a spec file cannot be read",
        "netspec could not read a spec: the file named on the command line or by an `import` does not "
        "exist, cannot be opened (permissions, a name the system refuses), or is a folder. (A file that "
        "is not text is E003; one saved in another encoding than UTF-8 is read, with W001.)",
        "Check the path (it is relative to the current folder on the command line).",
        command="netspec check missing.net",
    ),
    "E002": Code(
        "a spec path is not a regular file",
        "The path names a FIFO, a character or block device, or a socket. netspec refuses these before "
        "opening them: reading one could wait forever for a writer, or never reach its end. A shell's "
        "process substitution (`netspec check <(make-spec)`) passes such a pipe.",
        "Save the text to a regular .net file and check that file.",
        command="netspec check /dev/null",
    ),
    "E003": Code(
        "a spec file is binary",
        "The file is not source text: it holds NUL bytes, or it is not UTF-8 and no other encoding reads "
        "it: a `.mat` data file, say, or a live script (a `.mlx` file is a zipped document; the help says "
        "so for one). It applies to the file named on the command line and to every file it imports, runs "
        "or calls.",
        "Point netspec at the MATLAB source text (.m or .net); in MATLAB, save a live script as a plain .m "
        "file.",
        command="netspec check model.mlx",
        needs="a live script `model.mlx` (MATLAB's zipped format)",
    ),
    "E004": Code(
        "the spec file is a class",
        "The file's first line of code (after blank and comment lines) starts with `classdef`: it defines "
        "a class, such as a custom layer, and netspec reads scripts and functions only. This is the file "
        "named on the command line or one it imports; a class found on the path by a call is E409 "
        "instead, when the network needs it.",
        "Point netspec at the script or function file that builds the network.",
        example="""\
classdef example < nnet.layer.Layer
end
""",
    ),
    "E010": Code(
        "`--set` is not NAME=VALUE",
        "`--set` binds a variable before the spec runs, as if the spec began with `NAME = VALUE;`. It "
        "takes a MATLAB identifier, `=`, and a value written as MATLAB; a word without `=`, a name that is "
        "not an identifier, or an empty value is refused. A mistake inside the value is reported with "
        "its own code, located in `--set NAME`.",
        "Write `--set numClasses=4`; quote a value with spaces for the shell: `--set 'inputSize=[64 64]'`.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(numClasses)];
""",
        command="netspec check example.net --set numClasses",
    ),
    "E011": Code(
        "`--args` cannot be passed",
        "`--args` gives the arguments of a function file's first function, written as MATLAB writes the "
        "inside of a call: values separated by commas, with 'Name', value pairs or Name=value at the end. "
        "It is refused when the file is a script (its first statement is not `function`), which takes no "
        "arguments, and when the text, read as the inside of a call, is not one list of values (`3); x = "
        "(4` closes the call and starts another statement). A syntax error or a wrong value in it is "
        "reported with its own code, located in `--args`.",
        "Leave `--args` out for a script (bind its variables with `--set NAME=VALUE`); otherwise separate "
        "the values with commas: `--args \"10, [224 224 3], 'Name', 'x'\"`.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(3)];
""",
        command="netspec check example.net --args 3",
    ),
    # -- E10x: characters, strings, brackets, syntax -----------------------------------------------
    "E100": Code(
        "unexpected character",
        "The spec holds a character that is not part of MATLAB's syntax as netspec reads it: `$`, `#` "
        "(MATLAB comments start with `%`), or a typographic symbol such as `×` or a curly quote pasted from "
        "a document.",
        "Remove the character or write the MATLAB one: `%` starts a comment, `*` multiplies, strings use "
        "straight quotes.",
        example="""\
x = 3 $ 4;
layers = reluLayer;
""",
    ),
    "E101": Code(
        "unterminated string",
        "A string opened with `'` or `\"` is not closed on the same line. MATLAB strings cannot span lines; "
        "a quote inside a string is written twice (`'it''s'`).",
        "Close the string on the line where it starts.",
        example="""\
layers = reluLayer('Name', 'relu);
""",
    ),
    "E102": Code(
        "unclosed bracket",
        "A `(` is still open at the end of its line, or a `[` or `{` at the end of the file. Outside "
        "brackets a line ends the statement, so a call cannot continue on the next line unless the line "
        "ends with `...`; inside `[...]` and `{...}` a new line starts a new row.",
        "Add the closing bracket, or end the line with `...` to continue the statement on the next one.",
        example="""\
x = (1 + 2
layers = reluLayer;
""",
    ),
    "E103": Code(
        "unmatched closing bracket",
        "A `)`, `]` or `}` closes nothing, or closes a bracket of another kind (the note says where the "
        "open one is).",
        "Remove the stray bracket, or close the open one with its own kind: `(` with `)`, `[` with `]`, "
        "`{` with `}`.",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 16];
""",
    ),
    "E104": Code(
        "unexpected end of file",
        "The parser reached the end of the input in the middle of a statement. netspec's parser reports a "
        "file that stops mid-statement more precisely, as E105 (`unexpected end of statement`), E102 (an "
        "unclosed bracket) or E111 (a block without `end`), so this code is not expected in practice.",
        "Complete the last statement of the file.",
        command="",
    ),
    "E105": Code(
        "unexpected token",
        "The parser met a word or symbol that cannot come next; the note lists what could. Common causes: "
        "`=` where `==` was meant (`if x = 3`), two values without an operator outside brackets "
        "(`x = 3 4`), a `for` without `=`, an operator with nothing after it, and a function header "
        "without `=` between its outputs and its name.",
        "Compare with `==`, separate arguments with `,`, and write `for NAME = VALUES` and "
        "`function [a, b] = name(args)`.",
        example="""\
x = 3;
if x = 3
  layers = reluLayer;
end
""",
    ),
    "E106": Code(
        "unclosed block comment",
        "`%{` starts a block comment that runs to a matching `%}`; each must stand alone on its line, and "
        "block comments nest. The file ends while one is still open.",
        "Close the comment with `%}` alone on a line.",
        example="""\
layers = reluLayer;
%{
layers = [layers; reluLayer];
""",
    ),
    # -- E11x-E14x: statements, values, indexing, functions ---------------------------------------
    "E110": Code(
        "`end` without a block",
        "An `end` closes nothing: no `for`, `while`, `if`, `switch` or `function` is open.",
        "Remove the `end`, or check the block above it for an extra `end`.",
        example="""\
layers = reluLayer;
end
""",
    ),
    "E111": Code(
        "block without `end`",
        "A `for`, `while`, `if`, `switch` or `function` is never closed before the end of the file.",
        "Add `end` after the body of the block.",
        example="""\
layers = reluLayer;
for i = 1:3
  layers = [layers; reluLayer];
""",
    ),
    "E112": Code(
        "function defined twice",
        "Two `function` definitions in one file have the same name; netspec would not know which one a "
        "call means.",
        "Rename one of the two definitions (and its calls).",
        example="""\
layers = f();
function y = f()
  y = reluLayer;
end
function y = f()
  y = reluLayer;
end
""",
    ),
    "E113": Code(
        "multiple outputs to something that is not a name",
        "The left side of `[a, b] = f(...)` lists something other than variable names (or `~`).",
        "List variable names only: `[rows, cols] = size(x)`; ignore an output with `~`.",
        example="""\
[a, 3] = size([1 2]);
layers = reluLayer;
""",
    ),
    "E114": Code(
        "cannot loop over this value",
        "A `for` loop runs over the columns of a numeric array or cell array, the layers of a layer array, "
        "or the characters of text. The value after `=` is none of these (a struct, training options, a "
        "layer graph).",
        "Loop over an index instead: `for i = 1:numel(items)`.",
        example="""\
opts = trainingOptions('sgdm');
for i = opts
end
layers = reluLayer;
""",
    ),
    "E115": Code(
        "value cannot be a condition",
        "An `if`, `while`, `&&` or `||` needs numbers or text; it is true when not empty and every element "
        "is non-zero. A cell array, struct, layer or options value has no truth value.",
        "Test what you mean: `if ~isempty(c)`, `if numel(c) > 1`.",
        example="""\
x = {1, 2};
if x
end
layers = reluLayer;
""",
    ),
    "E116": Code(
        "function inside a block",
        "A `function` is defined inside an `if`, a loop or another block of a function. MATLAB allows a "
        "function inside a function only directly in its body (a nested function, closed by `end` like every "
        "function of its file), never inside a block.",
        "Move the definition out of the block: directly into the body of the function (nested), or after "
        "its `end` (a local function).",
        example="""\
layers = f();
function y = f()
  y = reluLayer;
  if true
    function z = g()
      z = 1;
    end
  end
end
""",
    ),
    "E117": Code(
        "`end` outside indexing",
        "`end` as a value means the last index, so it is allowed only inside `x(...)` or `c{...}`.",
        "Index the array: `x(end)`, or use `numel(x)`.",
        example="""\
x = [1 2 3];
y = end;
layers = reluLayer;
""",
    ),
    "E118": Code(
        "`~` outside an output list",
        "`~` stands for an ignored output only on the left of `=`, as in `[~, n] = size(x)`; as a value it "
        "means nothing.",
        "Ignore outputs on the left side: `[~, n] = f(x)`; write `~x` or `not(x)` for a negation.",
        example="""\
x = size(~);
layers = reluLayer;
""",
    ),
    "E119": Code(
        "cannot transpose this value",
        "`'` and `.'` transpose numeric arrays, cell arrays, layer arrays and text; a struct, layer graph "
        "or options value has no transpose.",
        "Transpose the array inside the value (`s.a'`), not the value itself.",
        example="""\
s = struct('a', 1);
t = s';
layers = reluLayer;
""",
    ),
    "E120": Code(
        "operator cannot apply to these values",
        "An operator got operands it cannot combine: sizes that do not agree (element-wise operators need "
        "equal sizes, or sizes of 1 that expand), inner dimensions that differ for `*`, or a value the "
        "operator does not take (a layer, a struct).",
        "Make the sizes agree (transpose with `'`, or use `.*` for element-wise products), or operate on "
        "the numbers inside the value.",
        example="""\
x = [1 2] + [1 2 3];
layers = reluLayer;
""",
    ),
    "E121": Code(
        "cannot concatenate these values",
        "`[...]` joins values of one family: numbers into a numeric array, text with text (or character "
        "codes), layers into a layer array. A number among layers, a layer among text, or a struct among "
        "numbers cannot be joined.",
        "Keep each array to one kind; combine layer graphs with addLayers and connectLayers, and names in "
        "a cell array `{...}`.",
        example="""\
layers = [reluLayer 3];
""",
    ),
    "E122": Code(
        "char matrix",
        "Text stacked in rows (`['ab'; 'cd']`) makes a MATLAB char matrix, which netspec does not "
        "support.",
        "Keep a list of names in a cell array: `{'ab'; 'cd'}`.",
        example="""\
names = ['ab'; 'cd'];
layers = reluLayer;
""",
    ),
    "E123": Code(
        "dimensions do not agree in concatenation",
        "In `[a b; c d]` every element of a row must have the same number of rows, and every row the same "
        "number of columns; in a cell array `{...}` every row must have the same number of elements.",
        "Make the rows the same length, or build the array in steps.",
        example="""\
x = [1 2; 3];
layers = reluLayer;
""",
    ),
    "E124": Code(
        "dynamic field name is not text",
        "`s.(name)` reads the field whose name is the text `name` holds; the expression in the parentheses "
        "gave something else.",
        "Give the field name as text: `s.('a')`, or `s.(sprintf('w%d', k))`.",
        example="""\
s = struct('a', 1);
y = s.(3);
layers = reluLayer;
""",
    ),
    "E125": Code(
        "no such field or property",
        "The field or property named after `.` does not exist: a struct field never set, a layer option "
        "the layer does not have, or a layer graph property other than Layers, Connections, InputNames "
        "and OutputNames. The help suggests the closest name.",
        "Use a field the value has (the help suggests one), or set the field first.",
        example="""\
s = struct('a', 1);
y = s.b;
layers = reluLayer;
""",
    ),
    "E126": Code(
        "brace indexing of something that is not a cell array",
        "`x{i}` reads and `x{i} = v` writes an element of a cell array; `x` is a numeric array, text or "
        "another value.",
        "Index arrays with parentheses: `x(i)`; or make `x` a cell array: `x = {1, 2, 3}`.",
        example="""\
x = [1 2 3];
y = x{2};
layers = reluLayer;
""",
    ),
    "E127": Code(
        "call returns no value",
        "The value of a call is used, but the function returns nothing: a function defined without "
        "outputs.",
        "Give the function an output (`function y = f()` and assign `y`), or call it as a statement.",
        example="""\
x = f();
layers = reluLayer;
function f()
end
""",
    ),
    "E128": Code(
        "too few outputs",
        "`[a, b] = ...` asks for more outputs than the right side gives.",
        "Ask for as many outputs as the function returns, or give the function more outputs.",
        example="""\
[a, b] = f();
layers = reluLayer;
function y = f()
  y = 1;
end
""",
    ),
    "E129": Code(
        "Name=Value inside an index",
        "`x(a=1)` is MATLAB's Name=Value syntax, which belongs in a function call; `x` is a variable, so "
        "the parentheses index it.",
        "Index with numbers, `x(1)`; give options to a function call: `trainingOptions('sgdm', MaxEpochs=4)`.",
        example="""\
x = [1 2 3];
y = x(a=1);
layers = reluLayer;
""",
    ),
    "E130": Code(
        "index is not a number",
        "An index must be numbers (or a logical mask, or `:`); text or another value was given.",
        "Index with numbers; read a struct field with `s.name`, or a graph's layer with `lgraph.Layers(i)`.",
        example="""\
x = [1 2 3];
y = x('a');
layers = reluLayer;
""",
    ),
    "E131": Code(
        "index out of range",
        "An index is zero, negative or not whole (MATLAB indices start at 1), is past the end of the "
        "array when reading, or a logical mask is longer than the array.",
        "Use indices from 1 to `numel(x)`; `end` is the last one.",
        example="""\
x = [1 2 3];
y = x(4);
layers = reluLayer;
""",
    ),
    "E132": Code(
        "cannot index this value",
        "Parentheses index arrays. A layer graph is not an array of layers, and a struct, options value or "
        "function handle can only be indexed with `(1)`.",
        "Index the graph's layers: `lgraph.Layers(1:22)`; read a struct's fields with `.`.",
        example="""\
lgraph = layerGraph(reluLayer);
y = lgraph(1);
layers = reluLayer;
""",
    ),
    "E133": Code(
        "cannot assign to this expression",
        "The left side of `=` is a variable, an indexed variable `x(i)` or `c{i}`, a field `s.f`, or a "
        "chain of these; a number, an operation or a transpose cannot receive a value.",
        "Assign to a variable and compute on the right side: `x = 3;`.",
        example="""\
3 = x;
layers = reluLayer;
""",
    ),
    "E134": Code(
        "property set on several layers at once",
        "`layers.Name = ...` sets a property of a layer array that holds more than one layer; netspec sets "
        "a property on one layer at a time.",
        "Index one layer: `layers(2).Name = 'relu2';`, in a loop for several.",
        example="""\
layers = [reluLayer; reluLayer];
layers.Name = 'act';
""",
    ),
    "E135": Code(
        "cannot set a field of this value",
        "`x.f = v` sets a field of a struct (an undefined `x` becomes one) or a property of one layer; `x` "
        "holds a number, text or another value without fields.",
        "Use a new variable for the struct, or build it with `struct('f', v)`.",
        example="""\
x = 3;
x.a = 1;
layers = reluLayer;
""",
    ),
    "E136": Code(
        "cannot store this value here",
        "Indexed assignment keeps an array's kind: a layer goes into a layer array, numbers into a numeric "
        "array; storing a layer in a numeric array (or a number in a layer array) is refused, and so is "
        "storing a struct with other fields in a struct (MATLAB's \"dissimilar structures\").",
        "Store layers in a layer array (`layers(end+1) = reluLayer`) and values of other kinds in a cell "
        "array (`c{2} = reluLayer`).",
        example="""\
x = [1 2];
x(2) = reluLayer;
layers = reluLayer;
""",
    ),
    "E137": Code(
        "gap in a layer array",
        "Assigning past the end of a layer array would leave positions without a layer; a numeric array "
        "fills such gaps with zeros, but there is no empty layer.",
        "Append at the end: `layers(end+1) = reluLayer`.",
        example="""\
layers = reluLayer;
layers(3) = reluLayer;
""",
    ),
    "E138": Code(
        "number of elements does not match",
        "`x(idx) = v` assigns one element per position; `v` has another number of elements than `idx` "
        "selects (a single value fills all of them).",
        "Select as many positions as there are values, or assign a single value.",
        example="""\
x = [1 2 3];
x(1:2) = [1 2 3];
layers = reluLayer;
""",
    ),
    "E139": Code(
        "unsupported deletion",
        "`x(idx) = []` deletes elements, from a variable or a part of one (`s.a(1) = []`), with one index, "
        "or with two when one is `:` (whole rows or columns), from numeric arrays, cell arrays, layer arrays "
        "and text. Deleting single elements of a matrix with two indices would leave a hole, as MATLAB says.",
        "Delete whole rows or columns (`x(1, :) = []`), or delete with one index (`x(3) = []`, which makes "
        "the rest a row), or `layers(end-2:end) = []`.",
        example="""\
x = [1 2; 3 4];
x(1, 2) = [];
layers = reluLayer;
""",
    ),
    "E140": Code(
        "deletion from an undefined variable",
        "`x(idx) = []` deletes elements of `x`, but no variable `x` exists at that point.",
        "Check the name; define the variable before deleting from it.",
        example="""\
y(1) = [];
layers = reluLayer;
""",
    ),
    "E141": Code(
        "function rejected its arguments",
        "A built-in function (zeros, char, sprintf, mod, layerGraph, ...) was called with arguments it "
        "cannot take: the wrong number, the wrong kind of value, or a value out of its range (NaN where a "
        "size is due, a negative character code). The message names the function.",
        "Call the function as MATLAB documents it; the message says which argument is wrong.",
        example="""\
x = zeros(1, NaN);
layers = reluLayer;
""",
    ),
    "E142": Code(
        "Name=Value argument to a function that takes none",
        "A function defined in the spec (or in a file on the path) takes name-value arguments only when "
        "its `arguments` block declares them (`opts.Name`) or its last parameter is `varargin`. This one "
        "has neither, so a Name=Value argument has no parameter to bind to.",
        "Pass the values by position, `f(1)`, or declare the name in an arguments block: `opts.a = 1`.",
        example="""\
layers = f(a=1);
function y = f(a)
  y = reluLayer;
end
""",
    ),
    "E143": Code(
        "too many arguments to a local function",
        "A function defined in the spec was called with more arguments than its definition lists (fewer "
        "is allowed: `nargin` says how many came; a last parameter `varargin` takes any number more).",
        "Pass at most as many arguments as the definition names, or add parameters to it.",
        example="""\
layers = f(1, 2);
function y = f(a)
  y = reluLayer;
end
""",
    ),
    "E144": Code(
        "function output not set",
        "A function defined in the spec returned without assigning an output that its caller uses.",
        "Assign every output in the function's body: `y = ...`.",
        example="""\
layers = f(1);
function y = f(a)
  z = reluLayer;
end
""",
    ),
    "E145": Code(
        "a function reads a parameter its call did not give",
        "A function was called with fewer arguments than it has parameters, which is allowed, and then "
        "read one that no argument gave and no default set: MATLAB's \"Not enough input arguments\". This "
        "holds for local functions and function files on the path; in the function file netspec loads, a "
        "parameter left out of `--args` is an unknown value instead, which `--set NAME=VALUE` binds.",
        "Pass the argument in the call, or give the parameter a default: in an `arguments` block "
        "(`n (1,1) double = 10`), or with `if nargin < 1` or `if ~exist('n', 'var')` before it is read.",
        example="""\
layers = f();
function y = f(n)
  y = fullyConnectedLayer(n);
end
""",
    ),
    "E146": Code(
        "code after the functions of a function file",
        "A file whose first statement is `function` is a function file, as in MATLAB: it holds functions "
        "only, and netspec calls the first one. In the file netspec loads, a statement follows the `end` "
        "of a function, outside all of them.",
        "Move the statement into a function, or put the script code first (a script may end with local "
        "functions).",
        example="""\
function layers = example()
  layers = reluLayer;
end
layers = [layers; reluLayer];
""",
    ),
    "E147": Code(
        "argument fails its validation",
        "A function's `arguments` block declares what each argument must be, and a value (given by a call, "
        "by `--args`, or a default) does not fit: its class (`double`, `char`, `logical`, ... after "
        "MATLAB's conversions), its size (`(1,1)`, `(1,:)`; a scalar fills a fixed size and a vector turns "
        "as MATLAB turns it), or a validator such as mustBePositive, mustBeInteger, mustBeMember or "
        "mustBeInRange. A note points at the declaration. Validators netspec does not know (mustBeFile, "
        "the file's own) and unknown values are not checked.",
        "Pass a value the declaration accepts, or change the declaration.",
        example="""\
function layers = example(numClasses)
  arguments
    numClasses (1,1) double {mustBePositive, mustBeInteger} = 10
  end
  layers = [featureInputLayer(4); fullyConnectedLayer(numClasses)];
end
""",
        command="netspec check example.net --args 0",
    ),
    "E148": Code(
        "bad name-value argument",
        "A function whose `arguments` block declares name-value arguments (`opts.Width`) takes them after "
        "its positional arguments, as 'Name', value pairs or Name=value. Here a name is not text, a name "
        "has no value after it, or the block declares no argument of that name (case does not matter, and "
        "an unambiguous prefix names the argument it begins, as in MATLAB; the help suggests the closest), "
        "or the prefix begins several names.",
        "Write the names as the arguments block declares them, each followed by its value.",
        example="""\
layers = block(4, 'Widht', 8);
function layers = block(numClasses, opts)
  arguments
    numClasses (1,1) double
    opts.Width (1,1) double = 16
  end
  layers = [featureInputLayer(4); fullyConnectedLayer(opts.Width); fullyConnectedLayer(numClasses)];
end
""",
    ),
    "E149": Code(
        "the file calls error",
        "The code reached a call of MATLAB's `error` (outside a `try`), where MATLAB stops with that "
        "message too. It usually checks the arguments or the data: a condition that netspec computed from "
        "values given with --set, or from a guess about data it cannot read (an unknown condition is taken "
        "as the branch that goes on, see W102).",
        "Read the message: give the values it asks for (--set, --args), or fix the condition that leads here.",
        example="""\
numClasses = 1;
if numClasses < 2
    error('need at least two classes');
end
layers = [featureInputLayer(4); fullyConnectedLayer(numClasses); softmaxLayer; classificationLayer];
""",
    ),
    # -- E2xx: layer constructors and trainingOptions ----------------------------------------------
    "E201": Code(
        "wrong number of positional arguments",
        "A layer constructor (or trainingOptions) takes a fixed list of positional arguments, then "
        "'Name',Value options: `convolution2dLayer(FilterSize, NumFilters, ...)`. It got fewer than it "
        "needs, or a number where only options may follow.",
        "Give the positional arguments the help shows; `netspec layers` lists every constructor with its "
        "options.",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3)];
""",
    ),
    "E202": Code(
        "option name expected",
        "After the positional arguments a layer constructor takes 'Name',Value pairs; in this position it "
        "found a value that is not text, so it is not an option name.",
        "Give options as 'Name',Value pairs after the positional arguments.",
        example="""\
layers = [featureInputLayer(4)
    dropoutLayer('Name', 'drop', 0.5)];
""",
    ),
    "E203": Code(
        "option without a value",
        "An option name is the last argument, with no value after it.",
        "Write the value after the name: `'Stride', 2`.",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 16, 'Stride')];
""",
    ),
    "E204": Code(
        "unknown option",
        "The constructor or trainingOptions has no option of this name (case and underscores do not "
        "matter; as in MATLAB, a name may be shortened to a prefix that only one option begins with, "
        "'MaxEpoch' for MaxEpochs), or the prefix is ambiguous (several options begin with it). The help "
        "suggests the closest name, or lists all of them.",
        "Spell the option as MATLAB does; `netspec layers` lists each layer's options.",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 16, 'Stide', 2)];
""",
    ),
    "E205": Code(
        "option value of the wrong type",
        "An option that takes numbers got text (`'10'`; MATLAB refuses it too), or a value of another kind "
        "netspec cannot turn into the option's type.",
        "Write numbers without quotes: `fullyConnectedLayer(10)`.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer('10')];
""",
    ),
    "E206": Code(
        "invalid option value",
        "The value has the right type but is not allowed: a size or stride of zero, a negative padding, a "
        "probability of 1 or more, an unknown name among a fixed set ('same', 'sgdm'), or a layer "
        "property set to a value of another type. The message says what the option accepts.",
        "Use a value in the option's range; the message and help list what is allowed.",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 16, 'Stride', 0)];
""",
    ),
    "E207": Code(
        "training option of another solver",
        "Some trainingOptions belong to one solver, as in MATLAB: 'Momentum' to sgdm, "
        "'GradientDecayFactor' to adam. The option was given with a solver that does not use it.",
        "Remove the option, or choose the solver it belongs to.",
        example="""\
layers = reluLayer;
opts = trainingOptions('adam', 'Momentum', 0.9);
""",
    ),
    "E208": Code(
        "option value netspec does not read yet",
        "MATLAB accepts the value, but netspec does not read what it means yet. A two-element InputSize "
        "of sequenceInputLayer, [H C], is a sequence of 1-D images (each time step an H-long signal of C "
        "channels, for convolution1dLayer), and a four-element one, [H W D C], a sequence of 3-D images; "
        "netspec reads vector sequences, sequenceInputLayer(C), and sequences of 2-D images, "
        "sequenceInputLayer([H W C]). The value is not wrong: the file is fine for MATLAB.",
        "Nothing to fix in the file; netspec cannot check this network yet. A network over vector "
        "sequences (sequenceInputLayer(C) and recurrent layers) is read.",
        example="""\
layers = [sequenceInputLayer([81 128])
    convolution1dLayer(3, 16)];
""",
    ),
    # -- E3xx: layer arrays and graphs ---------------------------------------------------------------
    "E301": Code(
        "duplicate layer name",
        "Two layers of one network have the same name. Connections name layers, so names must be unique "
        "(layers left unnamed get unique default names).",
        "Rename one of them, or leave the names out.",
        example="""\
layers = [imageInputLayer([28 28 1])
    reluLayer('Name', 'act')
    reluLayer('Name', 'act')];
""",
    ),
    "E302": Code(
        "layer array in an impossible order",
        "A layer array connects each layer to the next, so an output layer (classificationLayer, "
        "regressionLayer) must be last and an input layer first: one has no output, the other takes no "
        "input.",
        "Move the output layer to the end and the input layer to the start; build a second input branch "
        "with addLayers and connectLayers.",
        example="""\
layers = [imageInputLayer([28 28 1])
    softmaxLayer
    classificationLayer
    reluLayer];
""",
    ),
    "E303": Code(
        "no layer of that name in the graph",
        "connectLayers, disconnectLayers, removeLayers or replaceLayer named a layer the graph does not "
        "have. The help suggests the closest name.",
        "Use the layer's name as set with 'Name' (or its default name, shown by `netspec parse`).",
        example="""\
layers = [imageInputLayer([28 28 1], 'Name', 'in')
    convolution2dLayer(3, 16, 'Padding', 'same', 'Name', 'conv')
    reluLayer('Name', 'relu')
    additionLayer(2, 'Name', 'add')];
lgraph = layerGraph(layers);
lgraph = connectLayers(lgraph, 'in', 'ad/in2');
""",
    ),
    "E304": Code(
        "port missing or unknown",
        "A layer with several inputs (additionLayer, concatenationLayer) or outputs is connected by port: "
        "'add/in2'. The port was left out, or the layer has no port of that name.",
        "Name the port, as the help lists them: `connectLayers(lgraph, 'in', 'add/in2')`.",
        example="""\
layers = [imageInputLayer([28 28 1], 'Name', 'in')
    convolution2dLayer(3, 16, 'Padding', 'same', 'Name', 'conv')
    reluLayer('Name', 'relu')
    additionLayer(2, 'Name', 'add')];
lgraph = layerGraph(layers);
lgraph = connectLayers(lgraph, 'in', 'add');
""",
    ),
    "E305": Code(
        "input already connected",
        "An input port takes one connection; this one already has a source (in a layer array, each layer's "
        "first input is connected to the layer before it).",
        "Connect to a free port (`'add/in2'`), or disconnectLayers the old connection first.",
        example="""\
layers = [imageInputLayer([28 28 1], 'Name', 'in')
    convolution2dLayer(3, 16, 'Padding', 'same', 'Name', 'conv')
    reluLayer('Name', 'relu')
    additionLayer(2, 'Name', 'add')];
lgraph = layerGraph(layers);
lgraph = connectLayers(lgraph, 'in', 'add/in1');
""",
    ),
    "E306": Code(
        "no such connection",
        "disconnectLayers names a connection the graph does not have.",
        "Name an existing connection, source then destination port, as `netspec parse` lists them.",
        example="""\
layers = [imageInputLayer([28 28 1], 'Name', 'in')
    convolution2dLayer(3, 16, 'Padding', 'same', 'Name', 'conv')
    reluLayer('Name', 'relu')
    additionLayer(2, 'Name', 'add')];
lgraph = layerGraph(layers);
lgraph = disconnectLayers(lgraph, 'in', 'add/in2');
""",
    ),
    # -- E4xx: the network a file defines ------------------------------------------------------------
    "E401": Code(
        "no variable named by --net",
        "`--net NAME` chooses the variable that holds the network, and the spec never assigns one of that "
        "name.",
        "Name a variable the spec assigns a layer array or layer graph to (the help suggests one), or "
        "leave --net out.",
        example="""\
layers = [featureInputLayer(4); reluLayer];
""",
        command="netspec check example.net --net model",
    ),
    "E402": Code(
        "the spec defines no network",
        "Without --net, netspec takes the network from a function file's first output that holds one, "
        "the network handed to trainNetwork, plot or a like call, a variable named `lgraph`, `net` or "
        "`layers`, or else the last variable assigned layers. The spec has none of these: no variable "
        "holds layers, and none has one of the three names.",
        "Assign the network to `layers` or `lgraph`, or pass `--net NAME` (the help names a variable "
        "that holds layers, if there is one).",
        example="""\
x = 3;
""",
    ),
    "E403": Code(
        "the network has no layers",
        "The variable that holds the network is an empty layer array.",
        "Add layers to it, or choose another variable with --net.",
        example="""\
layers = reluLayer;
layers(1) = [];
""",
    ),
    "E404": Code(
        "the network variable holds no network",
        "The variable netspec takes the network from (`lgraph`, `net`, `layers`, or `--net NAME`) holds a "
        "number, text or another value instead of a layer array or layer graph.",
        "Choose the variable that holds the layers with `--net NAME`, or rename your variables.",
        example="""\
layers = 3;
""",
    ),
    "E405": Code(
        "the network depends on a value netspec cannot compute",
        "The network's layers need a value that comes from something netspec does not run: loading data "
        "(imageDatastore, categories), reading files, or random numbers. netspec reads a spec without "
        "data, so such a value is unknown; the note traces where it came from.",
        "Give the value on the command line (`--set numClasses=10`), or write the number in the spec.",
        example="""\
imds = imageDatastore('digits');
numClasses = numel(categories(imds.Labels));
layers = [featureInputLayer(4)
    fullyConnectedLayer(numClasses)];
""",
    ),
    "E406": Code(
        "the network depends on an unknown function",
        "A layer or value the network needs comes from a call to a function netspec does not know, and "
        "its name is close to one it knows: most likely a typo, such as a misspelled layer constructor. A "
        "W105 warning marks the call first.",
        "Correct the name (the help suggests it).",
        example="""\
layers = [imageInputLayer([28 28 1])
    reluLayr()];
""",
        also=("W105",),
    ),
    "E407": Code(
        "the network depends on an undefined name",
        "The network needs a variable that is never assigned, in the spec or with --set (the note says "
        "which variable carried it into the network). A W105 warning marks where the name is read.",
        "Define the name in the spec, or bind it on the command line: `--set numClasses=10`.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(numClasses)];
""",
        also=("W105",),
    ),
    "E409": Code(
        "the network depends on a class",
        "A call found `NAME.m` on the path, and the file defines a class (`classdef`), usually a custom "
        "layer. netspec reads no classes, so what the call returns is unknown, and the network needs it. "
        "A custom layer cannot be analyzed, trained or exported by netspec.",
        "Build the network from the layers netspec knows (`netspec layers` lists them); where the class "
        "only supplies a value (`n = Config().numClasses`), bind that variable: `--set n=10`.",
        command="netspec check main.m",
        needs="a spec `main.m` whose layers include `scaleLayer(2)` and a custom layer `scaleLayer.m` "
              "(classdef) beside it",
    ),
    # -- E5xx: limits --------------------------------------------------------------------------------
    "E501": Code(
        "the spec does too much work",
        "netspec bounds what a spec may compute, so every spec ends quickly: at most 500,000 steps "
        "(statements, loop passes and calls) and 20,000,000 array elements produced by operators, "
        "concatenation and built-in functions, counted before a matrix product is done. A network "
        "definition needs far less; a runaway loop or a huge product needs more.",
        "Check the loop bounds and array sizes; a spec should define the network, not compute with data.",
        example="""\
a = ones(1000, 1000);
x = a * a;
layers = reluLayer;
""",
    ),
    "E502": Code(
        "array too large",
        "An array, range, string or index would have more than 1,000,000 elements (a layer array more "
        "than 200,000 layers), or a sprintf field is wider than 1,000 characters. netspec refuses it "
        "before allocating it.",
        "Check the sizes: a network definition needs small arrays.",
        example="""\
x = zeros(1e5, 1e5);
layers = reluLayer;
""",
    ),
    "E503": Code(
        "too many layers",
        "The spec created more than 200,000 layers, counting every constructor call and the layers of "
        "every built-in architecture (`resnet50`) it loads.",
        "Check the loop that builds the network.",
        example="""\
for i = 1:2000
  g = resnet50;
end
layers = reluLayer;
""",
    ),
    "E504": Code(
        "calls nest too deeply",
        "Function calls, of local functions or anonymous ones, nest more than 64 deep: most likely a "
        "recursion that never stops.",
        "Give the recursion a base case, or write it as a loop.",
        example="""\
layers = f(1);
function y = f(n)
  y = f(n + 1);
end
""",
    ),
    "E505": Code(
        "expressions nest too deeply",
        "An expression, block or call nests deeper than netspec's evaluator can follow (thousands of "
        "levels, such as a generated expression with thousands of parentheses).",
        "Split deeply nested expressions into several assignments.",
        command="netspec check nested.net",
        needs="a spec with thousands of nested parentheses, e.g. written by "
              "`python -c \"print('x = ' + '(' * 5000 + '1' + ')' * 5000)\" > nested.net`",
    ),
    "E506": Code(
        "out of memory",
        "Running the spec ran out of memory. The other limits (E501, E502, E503) stop a spec long before "
        "this, so this is rare.",
        "Check the loops and arrays that grow.",
        command="",
    ),
    "E507": Code(
        "spec too large",
        "A load reads at most 2 MiB of spec text, the file and everything it imports together (each file "
        "once), unless `--max-file-size` says otherwise: loading takes 100 to 150 times a spec's size in "
        "memory. The help gives the option that reads this spec.",
        "Raise the limit, `--max-file-size 8M`, for a large generated spec.",
        example="""\
layers = [featureInputLayer(4); reluLayer];
""",
        command="netspec check example.net --max-file-size 16",
    ),
    # -- E6xx: imports -------------------------------------------------------------------------------
    "E601": Code(
        "import of a file that is not a spec",
        "`import \"file\"` runs another network definition, a .net or .m file; other files are refused.",
        "Import .net or .m files only; load data with --data when training.",
        example="""\
import "data.csv"
layers = reluLayer;
""",
    ),
    "E602": Code(
        "import cycle",
        "A file imports a file that is already being imported (itself, or one that imports it), which "
        "would never end. The note shows the chain.",
        "Remove the import that closes the cycle; put what both files share into a third file.",
        example="""\
import "example.net"
layers = reluLayer;
""",
    ),
    "E603": Code(
        "imports nest too deeply",
        "Imports nest more than 16 files deep (a file imports one that imports another, and so on).",
        "Import the shared files from the top-level spec instead of through a long chain.",
        command="netspec check a.net",
        needs="a chain of 18 files, each importing the next",
    ),
    "E604": Code(
        "imported file not found",
        "The file an `import` names does not exist, or its name cannot be a path (a NUL character, a name "
        "too long, symbolic links in a loop). The path is relative to the importing file's folder.",
        "Give the path relative to the file that imports it.",
        example="""\
import "blocks.net"
layers = reluLayer;
""",
    ),
    "E605": Code(
        "import outside the spec's folder",
        "A spec imports files from its own folder and the folders below it (symbolic links resolved), so a "
        "spec from elsewhere cannot read other files on the machine. `--path DIR` adds a folder.",
        "Move the file into the spec's folder tree, or pass `--path DIR` with the folder it lives in.",
        example="""\
import "../shared/blocks.net"
layers = reluLayer;
""",
    ),
    "E700": Code(
        "built-in architecture defines no network",
        "A built-in architecture (alexnet, resnet50, ...) is itself a spec shipped with netspec; this one "
        "defined no network. It means the installation is damaged, not that the spec is wrong.",
        "Reinstall netspec: the built-in architectures ship with it.",
        command="",
    ),
    "W001": Code(
        "spec file not UTF-8",
        "The file is not UTF-8 (MATLAB's default since R2020a) but older editors' text in a legacy "
        "encoding, such as Windows-1252, GBK or Shift-JIS comments. netspec read it in the encoding it "
        "detects (the message names it) and warns once per file: a guessed encoding may show some "
        "characters wrongly in names and messages.",
        "Save the file as UTF-8.",
        severity=WARNING,
        command="netspec check legacy.m",
        needs="a spec `legacy.m` saved in Windows-1252 with accented comments (`% réseau, entrée`)",
    ),
    # -- W: warnings about a spec ---------------------------------------------------------------------
    "W101": Code(
        "loop over an unknown range skipped",
        "A `for` loop runs over a value netspec cannot compute (it comes from data loading or an unknown "
        "function), so the loop is skipped. If the loop builds part of the network, the network lacks it.",
        "Bind the value on the command line (the help says which: `--set NAME=VALUE`), or loop over a "
        "known range.",
        severity=WARNING,
        example="""\
imds = imageDatastore('digits');
layers = imageInputLayer([28 28 1]);
for i = 1:numel(imds.Files)
  layers = [layers; reluLayer];
end
""",
    ),
    "W102": Code(
        "condition on an unknown value taken as false",
        "An `if` or `while` condition depends on a value netspec cannot compute, so it is taken as false: "
        "the `if` runs its `else` branch (if any), the `while` loop does not run; a `switch` on such a "
        "value runs its `otherwise` branch. One exception: when the branch that would then run ends the "
        "run (`return` or `error(...)` among its own statements) and exactly one undecided branch does "
        "not, that one runs instead, and the warning says so: `if exist('data.mat', 'file') ... else "
        "return; end` is run as MATLAB users run it, with the data present.",
        "Bind the value with `--set NAME=VALUE` if the branch matters for the network.",
        severity=WARNING,
        example="""\
imds = imageDatastore('digits');
layers = [imageInputLayer([28 28 1]); reluLayer];
if numel(imds.Files) > 100
  layers = [layers; dropoutLayer];
end
""",
    ),
    "W103": Code(
        "package import ignored",
        "`import pkg.name` is MATLAB's package import, which netspec ignores. A file is imported with a "
        "quoted path: `import \"blocks.net\"`.",
        "Quote the path of a file to import it; remove the line otherwise.",
        severity=WARNING,
        example="""\
import layers.net
layers = reluLayer;
""",
    ),
    "W104": Code(
        "function name spelled in another case",
        "MATLAB names are case-sensitive, and the spec calls a netspec function in another case "
        "(`relulayer` for `reluLayer`). netspec reads it as the function it names, but MATLAB would not.",
        "Write the name as MATLAB spells it.",
        severity=WARNING,
        example="""\
layers = [imageInputLayer([28 28 1]); relulayer];
""",
    ),
    "W105": Code(
        "unknown name treated as unknown",
        "The spec reads a variable or calls a function netspec does not know (a helper in another file, a "
        "toolbox function). Its value is unknown; that is fine for plotting or data loading, but a network "
        "that depends on it fails with E405, E406 or E407.",
        "If the network needs it, define it in the spec or bind it with `--set NAME=VALUE`; correct the "
        "name if it is a typo (the help suggests a known function).",
        severity=WARNING,
        example="""\
x = myHelper(3);
layers = reluLayer;
""",
    ),
    "W106": Code(
        "netspec failed inside a `try`",
        "netspec failed while running a `try` body: an error it reports (an unknown option, an operator "
        "it cannot apply), which may be a mistake of the spec or something netspec does not model. As "
        "MATLAB would, it runs the `catch` body instead of the rest of the `try` body (`catch ME` gets "
        "the message, and `netspec:CODE` as identifier); without a `catch` the rest is skipped. The "
        "warning shows the error. The limits' errors (E5xx) are never caught.",
        "Correct the code in the `try` body if the error is a mistake; if the `catch` body builds what "
        "the network needs, the warning can stay.",
        severity=WARNING,
        example="""\
try
  conv = convolution2dLayer(3, 16, 'Stide', 2);
catch
  conv = convolution2dLayer(3, 16, 'Stride', 2);
end
layers = [imageInputLayer([28 28 1]); conv];
""",
    ),
    "W107": Code(
        "addpath of a folder netspec does not read",
        "netspec reads files from the loaded file's folder and the folders below it, and from `--path` "
        "folders, so a spec from elsewhere cannot read other files on the machine. `addpath` named a "
        "folder outside these trees (or one that does not exist), so netspec ignores it: a function "
        "defined there stays unknown (W105).",
        "Pass the folder with `--path DIR` to read its helper files.",
        severity=WARNING,
        example="""\
addpath('../shared');
layers = reluLayer;
""",
    ),
    "W108": Code(
        "`while` loop stopped",
        "netspec runs a `while` loop as MATLAB does, but a pass that skips code on a value netspec cannot "
        "compute (W101, W102) may never change the loop's condition. After 1,000 such passes netspec "
        "stops the loop and goes on after it, with the variables as the last pass left them.",
        "Bind the unknown value with `--set NAME=VALUE`, or give the loop a condition netspec can compute "
        "(a fixed count).",
        severity=WARNING,
        example="""\
data = load('labels.mat');
count = 0;
while count < 3
  if data.ok
    count = count + 1;
  end
end
layers = reluLayer;
""",
        also=("W102",),
    ),
    "W201": Code(
        "layer option ignored",
        "netspec reads this MATLAB option but does not model it: a layer's initializers of scale and offset "
        "('ScaleInitializer'), an input layer's 'DataAugmentation', unpooling outputs, or a trainingOptions "
        "setting for sequences, background dispatch or checkpoints. The layer or options are built "
        "without it.",
        "Remove the option, or accept that netspec ignores it (augment with `netspec train --augment`).",
        severity=WARNING,
        example="""\
layers = [imageInputLayer([28 28 1], 'DataAugmentation', 'none'); reluLayer];
""",
    ),
    "W202": Code(
        "training option on an unknown value uses the default",
        "A trainingOptions value depends on a value netspec cannot compute (usually data), so the option "
        "keeps its default.",
        "Bind the value with `--set NAME=VALUE`, write the number, or give the option to `netspec train` "
        "(`--epochs 4`).",
        severity=WARNING,
        example="""\
imds = imageDatastore('digits');
opts = trainingOptions('sgdm', 'MaxEpochs', numel(imds.Files));
layers = reluLayer;
""",
    ),
    "W203": Code(
        "initial values not known: the initializer is used",
        "A layer's learnable values ('Weights', 'Bias', batch normalization's 'Offset', 'Scale', "
        "'TrainedMean', 'TrainedVariance') are given, but netspec cannot compute their numbers: `randn` is "
        "random, and a variable loaded from a file is data. Their size is still checked when it is known; "
        "training and `netspec export` start from the layer's initializer ('WeightsInitializer', ...) "
        "instead. Likewise an initializer given as a function of your own (`'WeightsInitializer', "
        "@(sz) ...`): netspec never runs user functions, so the layer's default initializer is used.",
        "Write the numbers (a literal, `zeros`, `ones`), or leave the option out when any start will do; "
        "`netspec train --init` copies weights from a trained run.",
        severity=WARNING,
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 8, 'Weights', randn([3 3 1 8]) * 0.01)
    reluLayer];
""",
    ),
    "W204": Code(
        "normalization statistic not known: computed from the data",
        "An input layer's 'Mean', 'StandardDeviation', 'Min' or 'Max' is given, but netspec cannot compute "
        "it (it was loaded from a file or computed from data). MATLAB computes these statistics from the "
        "training data when they are not given; netspec leaves the option unset, so `netspec train` does "
        "that, and analysis is unaffected.",
        "Write the numbers, or bind the variable that holds them with `--set NAME=VALUE`.",
        severity=WARNING,
        example="""\
stats = load('statistics.mat');
layers = [imageInputLayer([28 28 1], 'Mean', stats.mu)
    convolution2dLayer(3, 8)
    reluLayer];
""",
    ),
    "W205": Code(
        "class names or weights not known: left unset",
        "An output layer's 'Classes' (or 'ClassNames') or 'ClassWeights' is given, but netspec cannot "
        "compute it: it comes from the training data (`countEachLabel(pxds)`, `categories(imds.Labels)`). "
        "Neither shapes the network, so netspec leaves the option unset and analyzes the network all the "
        "same: the classes are then the categories of the training labels, and every class weighs the same "
        "in the loss.",
        "Write the values (`'Classes', [\"sky\" \"road\"]`, `'ClassWeights', [0.3 0.7]`), or bind the variable "
        "that holds them with `--set NAME=VALUE`.",
        severity=WARNING,
        example="""\
labels = load('labels.mat');
layers = [imageInputLayer([32 32 3])
    convolution2dLayer(1, 2)
    softmaxLayer
    pixelClassificationLayer('Classes', labels.names)];
""",
    ),
    "W301": Code(
        "no validation images",
        "`--split` is meant to hold out a share of each class for validation, but no class has an image to "
        "spare (a class gives validation an image only when it has 2 or more), so training runs without "
        "validation.",
        "Add images, or pass `--split 1` to train on everything without validation.",
        severity=WARNING,
        example=DIGITS,
        command="netspec train example.net --data tiny",
        needs="an image folder `tiny` whose classes hold one image each",
    ),
    "W302": Code(
        "classes without validation images",
        "Some classes hold a single image, so `--split` leaves them none for validation: the validation "
        "accuracy does not see those classes.",
        "Add images to the classes named, or pass `--split 1`.",
        severity=WARNING,
        example=DIGITS,
        command="netspec train example.net --data images",
        needs="an image folder `images` where some classes hold a single image",
    ),
    # -- A0xx: structure -----------------------------------------------------------------------------
    "A001": Code(
        "the connections form a cycle",
        "A network is a directed acyclic graph: data flows from inputs to outputs. connectLayers made a "
        "connection that leads back to an earlier layer; the message names layers on the cycle.",
        "Remove one of the connections with disconnectLayers.",
        example="""\
layers = [featureInputLayer(4, 'Name', 'in')
    fullyConnectedLayer(4, 'Name', 'fc1')
    additionLayer(2, 'Name', 'add')
    fullyConnectedLayer(4, 'Name', 'fc2')
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
lgraph = connectLayers(lgraph, 'fc2', 'add/in2');
""",
        command=ANALYZE,
    ),
    "A002": Code(
        "no input layer",
        "The network has no imageInputLayer, sequenceInputLayer or featureInputLayer, so nothing gives its "
        "layers their input sizes. The first layer's input is then unconnected as well (A003).",
        "Start the network with an input layer.",
        example="""\
layers = [reluLayer
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE,
        also=("A003",),
    ),
    "A003": Code(
        "input not connected",
        "A layer's input port has no connection: a layer added with addLayers and never connected, or the "
        "second input of an additionLayer or concatenationLayer left free.",
        "Connect it: `lgraph = connectLayers(lgraph, 'source', 'layer/in2')`.",
        example="""\
layers = [featureInputLayer(4, 'Name', 'in')
    fullyConnectedLayer(4, 'Name', 'fc')
    additionLayer(2, 'Name', 'add')
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
""",
        command=ANALYZE,
    ),
    "A004": Code(
        "unused input",
        "An input layer feeds no layer; its input would be read and thrown away.",
        "Connect the input, or remove it with removeLayers.",
        severity=WARNING,
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
lgraph = addLayers(lgraph, featureInputLayer(8, 'Name', 'extra'));
""",
        command=ANALYZE,
    ),
    "A005": Code(
        "dangling layer",
        "A layer's output goes nowhere while the network has an output layer elsewhere: its work reaches "
        "no output.",
        "Connect the layer to the rest of the network, or remove it with removeLayers.",
        severity=WARNING,
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
lgraph = addLayers(lgraph, reluLayer('Name', 'spare'));
lgraph = connectLayers(lgraph, 'input', 'spare');
""",
        command=ANALYZE,
    ),
    "A006": Code(
        "no output layer",
        "The network ends without classificationLayer or regressionLayer. It can be analyzed and exported, "
        "but `netspec train` needs an output layer to know the loss.",
        "End a classifier with softmaxLayer and classificationLayer, a regression with regressionLayer.",
        severity=WARNING,
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(2)
    softmaxLayer];
""",
        command=ANALYZE,
    ),
    "A007": Code(
        "--input-size does not fit the input layer",
        "`--input-size` gives three numbers (H W C) for an image input, two (T C) for a sequence input and "
        "one (C) for a feature input; it gave another count.",
        "Give as many sizes as the input layer has: `--input-size 28 28 1`.",
        example="""\
layers = [imageInputLayer([28 28 1])
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command="netspec analyze example.net --input-size 28 28",
    ),
    # -- A1xx: shapes --------------------------------------------------------------------------------
    "A101": Code(
        "layer cannot take its input",
        "A layer's shape rule refused its input for a reason that has no code of its own (the specific "
        "reasons are A102 to A105). The layers after it have unknown shapes.",
        "Read the message, and check the layers before this one.",
        command="",
    ),
    "A102": Code(
        "window larger than its input",
        "A convolution or pooling window (dilated, plus padding) spans more than its input, so the output "
        "would have a size of zero or less; or a transposed convolution crops more than it produces. "
        "Usually the input has shrunk more than intended by the strides and pooling before.",
        "Use a smaller window or stride, add padding ('Padding','same'), or start from a larger input.",
        example="""\
layers = [imageInputLayer([4 4 1])
    convolution2dLayer(5, 8)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE,
    ),
    "A103": Code(
        "merged inputs differ in shape",
        "additionLayer needs every input of the same size; concatenation layers need inputs that agree in "
        "every dimension but the one they join. Branches with different strides, padding or channel "
        "counts do not.",
        "Match the branches: a 1×1 convolution with a stride can bring a shortcut to the other branch's "
        "size and channels.",
        example="""\
layers = [imageInputLayer([28 28 1], 'Name', 'in')
    convolution2dLayer(3, 16, 'Padding', 'same', 'Name', 'conv')
    additionLayer(2, 'Name', 'add')
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
lgraph = connectLayers(lgraph, 'in', 'add/in2');
""",
        command=ANALYZE,
    ),
    "A104": Code(
        "input of the wrong kind",
        "The layer takes images (H×W×C), sequences (T×C) or feature vectors, and its input is another "
        "kind: a convolution after a featureInputLayer, or after a flattenLayer or global pooling has made "
        "a vector. concatenationLayer also refuses a dimension its inputs do not have.",
        "Use the layer for its kind of data (convolution1dLayer for sequences, fullyConnectedLayer for "
        "vectors), or fix the layers before it.",
        example="""\
layers = [featureInputLayer(10)
    convolution2dLayer(3, 8)
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE,
    ),
    "A105": Code(
        "declared size does not match the input",
        "The layer declares its input size ('NumChannels', 'InputSize', 'NumChannelsPerGroup') and its "
        "input has another; or a grouped convolution's groups do not divide its input channels.",
        "Remove the declaration ('auto' works it out), or fix the layers before it.",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 8, 'NumChannels', 3)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE,
    ),
    "A106": Code(
        "given learnable values have the wrong size",
        "A layer's 'Weights', 'Bias' (or batch normalization's 'Offset', 'Scale', 'TrainedMean', "
        "'TrainedVariance') have another size than the layer's learnables, as MATLAB lays them out: a "
        "convolution's Weights are FilterSize(1)×FilterSize(2)×NumChannels×NumFilters and its Bias "
        "1×1×NumFilters, a fully connected layer's Weights OutputSize×InputSize and its Bias OutputSize×1, "
        "a batch normalization's values 1×1×NumChannels. MATLAB rejects such a network too.",
        "Give the values the size the message names, or change the layer's sizes (or the layers before it) "
        "to match the values.",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 8, 'Bias', zeros(1, 1, 4))
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE,
    ),
    "A107": Code(
        "unfolding what its folding did not fold",
        "A sequenceUnfoldingLayer turns the images of a sequenceFoldingLayer (one per time step, or the "
        "vectors the layers after the folding made of them) back into sequences, as the folding's "
        "'miniBatchSize' output says. Its 'in' input here is something else: a sequence from before the "
        "folding, or the images of another folding.",
        "Connect the unfolding's 'in' to the layers after the folding whose 'miniBatchSize' it takes.",
        example="""\
layers = [sequenceInputLayer([28 28 1], 'Name', 'in')
    sequenceFoldingLayer('Name', 'fold')
    convolution2dLayer(5, 8, 'Name', 'conv')
    sequenceUnfoldingLayer('Name', 'unfold')
    flattenLayer
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
lgraph = disconnectLayers(lgraph, 'conv', 'unfold/in');
lgraph = connectLayers(lgraph, 'in', 'unfold/in');
lgraph = connectLayers(lgraph, 'fold/miniBatchSize', 'unfold/miniBatchSize');
""",
        command=ANALYZE,
        also=("A005",),
    ),
    "A108": Code(
        "sequence longer than the position embedding",
        "positionEmbeddingLayer learns one vector per position, up to its MaxPosition; its input has more time "
        "steps than that, so the later steps have no vector (MATLAB stops there too).",
        "Raise MaxPosition to the longest sequence the network will see, or shorten the sequences.",
        example="""\
layers = [sequenceInputLayer(12, 'MinLength', 40)
    positionEmbeddingLayer(16, 32)
    fullyConnectedLayer(9)
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE,
    ),
    # -- A2xx: receptive fields ----------------------------------------------------------------------
    "A201": Code(
        "merged paths not centred alike",
        "The paths into a merge layer see the input through receptive fields with different strides or "
        "offsets: the same output position looks at differently placed input regions on each path (a "
        "window padded at its start on one path and at its end on the other). The receptive field reported "
        "is the largest one.",
        "Pad the branches alike (symmetric padding, 'same') so they stay aligned.",
        severity=WARNING,
        example="""\
layers = [imageInputLayer([8 8 1], 'Name', 'in')
    convolution2dLayer([3 1], 4, 'Padding', [2 0 0 0], 'Name', 'top')
    additionLayer(2, 'Name', 'add')
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
lgraph = addLayers(lgraph, convolution2dLayer([3 1], 4, 'Padding', [0 2 0 0], 'Name', 'bottom'));
lgraph = connectLayers(lgraph, 'in', 'bottom');
lgraph = connectLayers(lgraph, 'bottom', 'add/in2');
""",
        command=ANALYZE,
    ),
    # -- A3xx: layer order ---------------------------------------------------------------------------
    "A301": Code(
        "classificationLayer not after softmaxLayer",
        "classificationLayer computes the cross-entropy of probabilities, which softmaxLayer produces; "
        "here it reads another layer's output.",
        "Insert softmaxLayer before classificationLayer.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(3)
    classificationLayer];
""",
        command=ANALYZE,
    ),
    "A302": Code(
        "regressionLayer after softmaxLayer",
        "A regression predicts unbounded values, but softmax makes the outputs positive and sum to 1.",
        "End a regression with fullyConnectedLayer then regressionLayer.",
        severity=WARNING,
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(1)
    softmaxLayer
    regressionLayer];
""",
        command=ANALYZE,
    ),
    "A303": Code(
        "pooling stride larger than its window",
        "A pooling layer steps further than its window reaches, so some inputs fall between windows and are "
        "never seen.",
        "Use a stride no larger than the pool size.",
        severity=WARNING,
        example="""\
layers = [imageInputLayer([28 28 1])
    maxPooling2dLayer(2, 'Stride', 3)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE,
    ),
    "A401": Code(
        "--fit with a symbolic input size",
        "`netspec analyze --fit SIZE` finds the largest MiniBatchSize whose training memory fits in SIZE; with a "
        "symbolic input size (`imageInputLayer([H W 3])`, `--input-size H W 3`), or a sequence network's symbolic "
        "length T, that memory is a formula, not a number to compare.",
        "Give the input size in numbers: `--input-size 224 224 3`, or numbers in the input layer; for a sequence "
        "network the longest sequence a mini-batch holds: `--sequence-length N`, or `'MinLength'`.",
        example="""\
layers = [imageInputLayer([H W 1])
    convolution2dLayer(3, 8, 'Padding', 'same')
    reluLayer
    globalAveragePooling2dLayer
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=ANALYZE + " --fit 16GiB",
    ),
    "A402": Code(
        "not even one image fits",
        "`netspec analyze --fit SIZE`: the weights, their gradients and the optimizer state alone, or with the "
        "activations one image keeps for the backward pass, take more than SIZE, so no MiniBatchSize fits.",
        "Train on a device with more memory, make the network smaller, or freeze layers "
        "('WeightLearnRateFactor', 0): frozen learnables have no gradients and no optimizer state.",
        example=DIGITS,
        command=ANALYZE + " --fit 100KiB",
    ),
    # -- T: building a PyTorch model -----------------------------------------------------------------
    "T001": Code(
        "PyTorch needs a concrete input size",
        "The input size is symbolic (`imageInputLayer([H W 3])`), which analysis handles with formulas, "
        "but building the model needs numbers: the padding of convolution and pooling layers is computed "
        "from the input size. Only a sequence's length may stay the symbol T (every sequence layer takes "
        "any length), unless a strided 'same' window needs it.",
        "Give the input layer numbers.",
        example="""\
layers = [imageInputLayer([H W 1])
    convolution2dLayer(3, 8, 'Padding', 'same')
    globalAveragePooling2dLayer
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=EXPORT,
    ),
    "T002": Code(
        "layer the PyTorch backend cannot build",
        "The PyTorch backend has no lowering for this layer class. Every layer netspec reads has one, so "
        "this means a layer was added to netspec without its lowering.",
        "Report it as a bug in netspec.",
        command="",
    ),
    "T003": Code(
        "layer too large to build",
        "A layer would hold more than 2^31 parameters, or output more than 2^31 values per image (tensors "
        "that large need 64-bit indexing, which many kernels lack), or the network's parameters or "
        "activations would not fit in this machine's memory. netspec refuses it with the analyzer's figure "
        "before allocating anything.",
        "Check the sizes: `netspec analyze FILE` lists every layer's parameters and activations.",
        example="""\
layers = [featureInputLayer(100000)
    fullyConnectedLayer(100000)
    softmaxLayer
    classificationLayer];
""",
        command=EXPORT,
    ),
    "T004": Code(
        "two layers become one PyTorch module name",
        "PyTorch module names keep only letters, digits and `_`, so two layer names that differ only in "
        "other characters ('fc-1' and 'fc_1') would become the same module.",
        "Rename one of the layers.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(10, 'Name', 'fc-1')
    fullyConnectedLayer(10, 'Name', 'fc_1')
    softmaxLayer
    classificationLayer];
""",
        command=EXPORT,
    ),
    # -- F: files netspec writes ---------------------------------------------------------------------
    "F001": Code(
        "cannot write a file",
        "An output path cannot be written: its folder is not writable, a part of the path is a file, or the "
        "path is a folder where a file is due (or the reverse). netspec checks before the work that would "
        "fill it, and writes through a temporary file, so a failure never leaves half a file.",
        "Choose a path in a folder you can write to.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
""",
        command="netspec export example.net -o example.net/model.onnx",
    ),
    "F002": Code(
        "export would replace a file",
        "The file `netspec export -o` names already exists (with --weights and --format pytorch, also the "
        "model.pt beside it); netspec does not replace an export unless asked.",
        "Add --overwrite to replace it, or choose another -o.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
""",
        command="netspec export example.net -o model.py && netspec export example.net -o model.py",
    ),
    # -- X: export with trained weights --------------------------------------------------------------
    "X001": Code(
        "weights trained from another network",
        "`netspec export --weights RUN` exports the spec with a run's weights, but the run was trained from "
        "a network with other layers.",
        "Export the spec the run was trained from (the run folder keeps it as spec.net).",
        example=DIGITS,
        command="netspec export example.net --weights runs/other -o model.onnx",
        needs="a run folder `runs/other` trained from another network",
    ),
    # -- C: checkpoints ------------------------------------------------------------------------------
    "C001": Code(
        "no checkpoint",
        "The path given as a run or checkpoint does not exist, or is a folder without best.pt or last.pt.",
        "Pass a run folder written by `netspec train`, or one of its .pt files.",
        command="netspec evaluate runs/example",
    ),
    "C002": Code(
        "not a netspec checkpoint",
        "The file cannot be read as a PyTorch checkpoint of plain tensors (netspec loads checkpoints with "
        "`weights_only=True`, which refuses pickled code), or it is one but not written by `netspec train`.",
        "Use the best.pt or last.pt of a netspec run.",
        command="netspec evaluate model.pt",
        needs="a model.pt that `netspec train` did not write",
    ),
    "C003": Code(
        "checkpoint entry missing or wrong",
        "A checkpoint entry is missing or has the wrong type, its class list is empty, a weight is not a "
        "tensor, or its network scores another number of classes than it names. netspec checks a "
        "checkpoint before using it.",
        "Use a checkpoint as `netspec train` wrote it, or train again.",
        command="netspec evaluate runs/mnist",
        needs="a run whose checkpoint was changed after training",
    ),
    "C004": Code(
        "checkpoint's network or options invalid",
        "The network or training options saved in the checkpoint are not valid JSON for netspec's IR.",
        "Use a checkpoint as `netspec train` wrote it, or train again.",
        command="netspec evaluate runs/mnist",
        needs="a run whose checkpoint was changed after training",
    ),
    "C005": Code(
        "weights do not fit the network",
        "A checkpoint's weights lack tensors of its network, have extra ones, or have other shapes; or, "
        "when resuming, the saved optimizer state does not fit the network.",
        "Use a checkpoint as `netspec train` wrote it; resume from the run's own last.pt.",
        command="netspec train --resume runs/mnist",
        needs="a run whose checkpoint was changed after training",
    ),
    # -- D: training data and images -----------------------------------------------------------------
    "D001": Code(
        "MNIST file missing",
        "`--data mnist:DIR` reads the four IDX files of MNIST (train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, raw or .gz); one is not "
        "in the folder.",
        "Put the four files in the folder, or pass an image folder instead.",
        example=DIGITS,
        command="netspec train example.net --data mnist:.",
    ),
    "D002": Code(
        "IDX file unreadable",
        "An MNIST IDX file cannot be read (truncated, or not gzip where its name ends in .gz), is not an "
        "IDX file of unsigned bytes, or holds fewer values than its header says.",
        "Download the file again.",
        example=DIGITS,
        command="netspec train example.net --data mnist:mnist",
        needs="an MNIST folder `mnist` with a damaged file",
    ),
    "D003": Code(
        "MNIST images and labels differ in count",
        "An MNIST folder's images file and labels file hold different numbers of items.",
        "Use the images and labels files of one download.",
        example=DIGITS,
        command="netspec train example.net --data mnist:mnist",
        needs="an MNIST folder `mnist` whose images and labels files do not belong together",
    ),
    "D004": Code(
        "image unreadable",
        "A file with an image suffix cannot be decoded (damaged, or not an image).",
        "Remove the file, or convert it to PNG or JPEG.",
        command="netspec predict runs/mnist broken.png",
        needs="a trained run `runs/mnist` and an image file that cannot be decoded",
    ),
    "D005": Code(
        "image channels cannot be converted",
        "The input layer takes a number of channels the image cannot be converted to: netspec turns grey "
        "into any number of channels and colour into grey, but not colour into 2 or 4 channels.",
        "Give the input layer 1 or 3 channels, or use images that already have its channel count.",
        example="""\
layers = [imageInputLayer([28 28 2])
    convolution2dLayer(3, 8)
    reluLayer
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command="netspec train example.net --data photos",
        needs="a folder `photos` of colour images",
    ),
    "D006": Code(
        "no such data folder",
        "`--data` names a folder (or `mnist:DIR`, or a .ts file) that does not exist.",
        "Give an image folder with one sub-folder per class, `mnist:DIR`, or `builtin` (for a sequence "
        "network: a .ts file or a folder of per-class CSV folders).",
        example=DIGITS,
        command="netspec train example.net --data digits",
    ),
    "D007": Code(
        "data folder without class folders",
        "An image folder is read as MATLAB's imageDatastore with 'LabelSource','foldernames': each "
        "sub-folder is a class, named by the folder. This folder has no sub-folders.",
        "Put each class's images in a folder of its own: `data/cat/*.png`, `data/dog/*.png`.",
        example=DIGITS,
        command="netspec train example.net --data .",
    ),
    "D008": Code(
        "class folder without images",
        "A class folder holds no image file netspec reads (the help lists the suffixes).",
        "Add images to it, or remove the folder.",
        example=DIGITS,
        command="netspec train example.net --data images",
        needs="an image folder `images` with an empty class folder",
    ),
    "D009": Code(
        "no training images",
        "The data source holds no image to train on, such as an MNIST folder whose training files hold "
        "zero images.",
        "Check the data source: its training files or folders must hold images.",
        example=DIGITS,
        command="netspec train example.net --data mnist:empty",
        needs="an MNIST folder `empty` whose training files hold no image",
    ),
    "D010": Code(
        "training share out of range",
        "`--split` is the share of each class used for training (the rest validates); it must be more "
        "than 0 and at most 1.",
        "Pass a share such as `--split 0.8`, or `--split 1` to train on everything.",
        example=DIGITS,
        command="netspec train example.net --split 0",
    ),
    "D011": Code(
        "image too large to read",
        "The image has more pixels than netspec reads (twice Pillow's decompression-bomb limit, about "
        "179 megapixels): a small file that decodes to that many pixels (a decompression bomb) would "
        "exhaust memory.",
        "Shrink the image first, e.g. `magick IMAGE -resize 4096x4096 SMALLER.png`.",
        command="netspec predict runs/mnist huge.png",
        needs="a trained run `runs/mnist` and an image of more than 179 megapixels",
    ),
    "D012": Code(
        "sequence file unreadable",
        "A sequence data file cannot be read: a .ts file (the time-series archive format) without @data or "
        "declared class labels, a case with another number of dimensions or an undeclared label, a value "
        "that is not a number, dimensions of a case with different lengths; or a CSV file whose rows have "
        "different numbers of values. The message names the file and line.",
        "Fix the line the message names: in .ts, dimensions are separated by ':', values by ',', '?' marks "
        "a missing value and the class label ends the line.",
        command="netspec train japanese_vowels_bilstm.net --data broken_TRAIN.ts",
        needs="a spec of a sequence network and a .ts file with a malformed line",
    ),
    "D013": Code(
        "missing values in sequences",
        "A sequence to train on or predict holds a missing value ('?' in .ts, an empty, NaN or ? cell in CSV), "
        "which no network can take.",
        "Fill the missing values first (MATLAB's fillmissing), or remove the sequence.",
        command="netspec train japanese_vowels_bilstm.net --data gaps_TRAIN.ts",
        needs="a spec of a sequence network and a .ts file with a '?' inside a sequence",
    ),
    "D014": Code(
        "sequence channels differ from the input",
        "sequenceInputLayer(C) takes sequences of C channels (features per time step); a sequence of the data "
        "has another number (or, in a CSV folder, the files differ in their numbers of columns).",
        "Set sequenceInputLayer's InputSize to the data's channels, or give data of that many channels.",
        example="""\
layers = [sequenceInputLayer(3)
    convolution1dLayer(3, 8, 'Padding', 'same')
    reluLayer
    globalAveragePooling1dLayer
    fullyConnectedLayer(9)
    softmaxLayer
    classificationLayer];
""",
        command=TRAIN,
    ),
    "D015": Code(
        "sequence shorter than MinLength",
        "sequenceInputLayer's MinLength is the fewest time steps the network takes (MATLAB throws an error for "
        "shorter data); a sequence of the data has fewer.",
        "Lower MinLength to the data's shortest sequence, or remove or pad the short sequences.",
        example="""\
layers = [sequenceInputLayer(12, 'MinLength', 30)
    convolution1dLayer(3, 8, 'Padding', 'same')
    reluLayer
    globalAveragePooling1dLayer
    fullyConnectedLayer(9)
    softmaxLayer
    classificationLayer];
""",
        command=TRAIN,
    ),
    # -- R: training and evaluation runs -------------------------------------------------------------
    "R001": Code(
        "no GPU for ExecutionEnvironment 'gpu'",
        "ExecutionEnvironment 'gpu' (or 'multi-gpu', 'parallel') asks for a CUDA GPU, and this machine has "
        "none PyTorch can use.",
        "Pass `--execution-environment cpu` or `auto`.",
        example=DIGITS,
        command="netspec train example.net --execution-environment gpu",
        needs="a machine without a CUDA GPU",
    ),
    "R002": Code(
        "nothing to train against",
        "Training needs an output layer, classificationLayer or regressionLayer, to choose the loss; the "
        "network has none.",
        "End the network with softmaxLayer and classificationLayer (or regressionLayer).",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 8)
    reluLayer
    fullyConnectedLayer(10)];
""",
        command=TRAIN,
    ),
    "R003": Code(
        "class count differs from the network's outputs",
        "The data has one number of classes and the network's last layer before softmax another: a "
        "classifier scores one output per class.",
        "Set the last fullyConnectedLayer's OutputSize to the number of classes (or bind it: "
        "`--set numClasses=10`).",
        example="""\
layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3, 8)
    reluLayer
    fullyConnectedLayer(5)
    softmaxLayer
    classificationLayer];
""",
        command=TRAIN,
    ),
    "R004": Code(
        "loss is not finite",
        "The training loss became NaN or infinite: the learning rate is too high, the gradients explode, "
        "or the data holds bad values. Training stops; the last good checkpoint is kept.",
        "Lower the learning rate (`--lr`), add 'GradientThreshold' to trainingOptions, or check the data.",
        example=DIGITS,
        command="netspec train example.net --lr 1e6",
        needs="a run that diverges (a learning rate this high usually makes it)",
    ),
    "R005": Code(
        "symbolic input size in training",
        "Training reads images at the input layer's size, which must be numbers; it is symbolic "
        "(`imageInputLayer([H W 1])`).",
        "Give the input layer numbers.",
        example="""\
layers = [imageInputLayer([H W 1])
    convolution2dLayer(3, 8, 'Padding', 'same')
    reluLayer
    globalAveragePooling2dLayer
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=TRAIN,
    ),
    "R006": Code(
        "training needs an image or sequence input",
        "`netspec train` reads images (imageInputLayer) and sequences (sequenceInputLayer); the network has "
        "neither. Feature networks can be analyzed and exported; training them is not supported yet.",
        "Train an image or sequence network, or export this one and train it elsewhere.",
        example="""\
layers = [featureInputLayer(4)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""",
        command=TRAIN,
    ),
    "R007": Code(
        "invalid training option",
        "A training option given on the command line (or resolved with the spec's trainingOptions) is out "
        "of range, such as a learning rate of 0 or less.",
        "Give a value in the option's range.",
        example=DIGITS,
        command="netspec train example.net --lr -1",
    ),
    "R008": Code(
        "evaluation data has other classes",
        "`netspec evaluate` compares predictions with labels, so the data must have the classes the network "
        "was trained on, in the same order (class folder names).",
        "Evaluate on data with the class folders the network was trained on.",
        command="netspec evaluate runs/mnist --data animals",
        needs="a run trained on digits and an image folder `animals` of other classes",
    ),
    "R010": Code(
        "invalid augmentation",
        "`--augment` takes comma-separated augmentations of MATLAB's imageDataAugmenter: RandXReflection, "
        "RandYReflection, and RandRotation, RandXTranslation, RandYTranslation, RandScale with a range "
        "`[low high]`. One is unknown, or its range is not two numbers in order.",
        "Write e.g. `--augment 'RandXReflection,RandRotation=[-10 10]'`.",
        example=DIGITS,
        command="netspec train example.net --augment RandFlip",
    ),
    "R011": Code(
        "batch smaller than the processes",
        "With several training processes (torchrun), each mini-batch is shared among them, so it needs at "
        "least one image per process.",
        "Use `--batch-size` of at least the number of processes, or fewer processes.",
        example=DIGITS,
        command="torchrun --standalone --nproc_per_node 8 -m netspec.cli train example.net --batch-size 4",
        needs="several training processes",
    ),
    "R012": Code(
        "run folder not empty",
        "A new run never lands on an earlier one or on other files: the `--out` folder holds a training run "
        "or other files.",
        "Continue a stopped run with `netspec train --resume FOLDER`, choose a new folder, or pass "
        "--overwrite (netspec then replaces its own files there and keeps the others).",
        example=DIGITS,
        command="netspec train example.net --out .",
    ),
    "R013": Code(
        "one class only",
        "The data has a single class; a classifier needs at least two.",
        "Add a folder of images for each other class.",
        example=DIGITS,
        command="netspec train example.net --data cats",
        needs="an image folder `cats` with a single class folder",
    ),
    "R014": Code(
        "pixel labels are not read yet",
        "The network ends in pixelClassificationLayer or dicePixelClassificationLayer: a semantic "
        "segmentation network, which learns from a label for every pixel. `netspec train` reads image "
        "folders with one label per image, not pixel-label data, so it stops before reading any data.",
        "Check, analyze, graph and export the network with netspec; train it where its pixel labels are "
        "(MATLAB's pixelLabelDatastore), or end it in a classificationLayer to classify whole images.",
        example="""layers = [imageInputLayer([32 32 3])
    convolution2dLayer(3, 2, 'Padding', 'same')
    softmaxLayer
    pixelClassificationLayer];
""",
        command="netspec train example.net --data builtin",
    ),
    "R015": Code(
        "training would not fit in memory",
        "Before allocating anything, `netspec train` estimates a training step's memory (weights, gradients, "
        "optimizer state and the activations autograd keeps for the backward pass, at the batch each process "
        "takes, as `netspec analyze` reports it) and compares it with the device's free memory (the GPU's, or "
        "the RAM the system reports available). The estimate is larger.",
        "Lower MiniBatchSize (`--batch-size`; the message names one that fits, as does `netspec analyze FILE "
        "--fit SIZE`), or pass `--skip-memory-check` to try anyway.",
        example=DIGITS,
        command="netspec train example.net --batch-size 100000000",
    ),
    "R016": Code(
        "sorting images by length",
        "`--sort-by-length` orders the training sequences shortest first; the network reads images, which have "
        "no length.",
        "Train without --sort-by-length.",
        example=DIGITS,
        command="netspec train example.net --sort-by-length",
    ),
    "R017": Code(
        "augmentation of sequences",
        "`--augment` transforms images (reflections, rotations, scaling, translations); the network reads "
        "sequences.",
        "Train without --augment.",
        example="""\
layers = [sequenceInputLayer(12)
    convolution1dLayer(3, 8, 'Padding', 'same')
    reluLayer
    globalAveragePooling1dLayer
    fullyConnectedLayer(9)
    softmaxLayer
    classificationLayer];
""",
        command="netspec train example.net --augment RandXReflection",
    ),
    "R020": Code(
        "no GPU for `netspec profile --device cuda`",
        "`netspec profile --device cuda` measures the network on a CUDA GPU, and this machine has none "
        "PyTorch can use, so nothing was run.",
        "Leave out `--device` (`auto`: the GPU when there is one, else the CPU) or pass `--device cpu`.",
        example=DIGITS,
        command="netspec profile example.net --device cuda",
        needs="a machine without a CUDA GPU",
    ),
    # -- P: prediction with an ONNX model ------------------------------------------------------------
    "P001": Code(
        "no such model",
        "The .onnx file given to `netspec predict` does not exist.",
        "Check the path; write the model with `netspec export`.",
        command="netspec predict model.onnx digit.png",
    ),
    "P002": Code(
        "ONNX model cannot be loaded",
        "The file cannot be loaded by onnx or onnxruntime: damaged, or not an ONNX model.",
        "Export the model again with `netspec export`.",
        command="netspec predict model.onnx digit.png",
        needs="a damaged model.onnx",
    ),
    "P003": Code(
        "ONNX model takes neither images nor sequences",
        "`netspec predict` feeds images or sequences: the model's input must be a batch of images of fixed "
        "size (N×C×H×W) or of sequences (N×C×T).",
        "Predict with a model exported from an image or a sequence network.",
        command="netspec predict model.onnx digit.png",
        needs="an ONNX model whose input is neither an image nor a sequence batch",
    ),
    "P004": Code(
        "ONNX class names do not fit",
        "The model's `netspec.classes` metadata is not a JSON list of class names, or names another number "
        "of classes than the model scores.",
        "Export the model again: `netspec export SPEC --weights RUN -o MODEL.onnx`.",
        command="netspec predict model.onnx digit.png",
        needs="an ONNX model whose metadata was changed after export",
    ),
    "P005": Code(
        "sequences the ONNX model cannot take",
        "The model was exported from a sequence network at a fixed length (its input's time axis is a "
        "number), and a sequence given has another length; or a sequence is too short for a layer of the "
        "model (a convolution or pooling without padding).",
        "Give sequences the model takes; to predict sequences of any length, export the spec without a fixed "
        "sequence length.",
        command="netspec predict model.onnx digit.png",
        needs="an ONNX model exported from a sequence network",
    ),
    # -- V: visualize --------------------------------------------------------------------------------
    "V001": Code(
        "no layer of that name",
        "The layer named with --layer is not in the trained network. The help suggests the closest name, "
        "and the note lists the layers that fit the command.",
        "Use one of the layers listed.",
        command="netspec visualize filters runs/mnist --layer conv9 -o filters.png",
        needs="a trained run `runs/mnist`",
    ),
    "V002": Code(
        "layer of the wrong kind",
        "The layer exists but does not fit the command: `filters` needs a convolution, `activations` an "
        "H×W×C output, `gradcam` a spatial map that feeds the class scores, `dream` a layer with channels. "
        "The note lists the layers that fit.",
        "Choose one of the layers listed.",
        command="netspec visualize filters runs/mnist --layer relu -o filters.png",
        needs="a trained run `runs/mnist`",
    ),
    "V003": Code(
        "no class of that name",
        "The class named with --class is not one of the network's classes (as `netspec predict` prints "
        "them). The help suggests the closest one.",
        "Use one of the classes listed.",
        command="netspec visualize gradcam runs/mnist digit.png --class 11 -o cam.png",
        needs="a trained run `runs/mnist` and an image",
    ),
    "V004": Code(
        "no class scores",
        "Grad-CAM and dreaming a class need class scores, and the network is a regression network.",
        "Use a classification network, or dream a channel with --layer and --channel.",
        command="netspec visualize gradcam runs/regression image.png -o cam.png",
        needs="a run trained with regressionLayer",
    ),
    "V005": Code(
        "channel out of range",
        "The channel given with --channel or --input-channel is past the layer's channels (numbered from "
        "1).",
        "Give a channel from 1 to the layer's channel count (the help says it).",
        command="netspec visualize dream runs/mnist --layer conv_1 --channel 99 -o dream.png",
        needs="a trained run `runs/mnist`",
    ),
}


WIDTH = 80
CODE_SHAPE = re.compile(r"([A-Z])(\d{3})")


def _wrapped(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def explanation(code: str) -> str | None:
    """The plain text `netspec explain CODE` prints (any case), or None for an unknown code."""
    key = code.strip().upper()
    entry = CODES.get(key)
    if entry is None:
        return None
    parts = [f"{entry.severity.value}[{key}]: {entry.title}", _wrapped(entry.explanation)]
    if entry.command:
        parts.append(_example_heading(entry))
        if entry.example:
            parts.append(textwrap.indent(f"% example.net\n{entry.example.rstrip()}", "    "))
        parts.append(f"    $ {entry.command}")
    parts.append(_wrapped(f"Fix: {entry.fix}"))
    return "\n\n".join(parts)


def _example_heading(entry: Code) -> str:
    return f"Example, with {entry.needs}:" if entry.needs else "Example:"


def closest_codes(code: str, count: int = 3) -> list[str]:
    """The known codes nearest to a mistyped one: for a letter and a number, the same letter and
    the nearest numbers first; for other text, the codes it resembles (often none)."""
    wanted = code.strip().upper()
    shape = CODE_SHAPE.fullmatch(wanted)
    if shape is None:
        return difflib.get_close_matches(wanted, CODES, n=count)
    letter, number = shape[1], int(shape[2])
    return sorted(CODES, key=lambda known: (known[0] != letter, abs(int(known[1:]) - number), known))[:count]


def markdown() -> str:
    """docs/codes.md: every code with its explanation, example and fix."""
    lines = ["# Diagnostic codes", "",
             "Every error and warning netspec reports carries a code; `netspec explain CODE` prints its "
             "entry below in the terminal. This page is generated from `netspec/codes.py` "
             "(`python -m netspec.codes docs/codes.md`); do not edit it by hand.", ""]
    for letter, family in FAMILIES.items():
        lines += [f"- [{letter}: {family}](#{_anchor(f'{letter}: {family}')})"]
    for letter, family in FAMILIES.items():
        lines += ["", f"## {letter}: {family}"]
        for key, entry in CODES.items():
            if key[0] != letter:
                continue
            lines += ["", f"### {key}: {entry.title}", "", f"*{entry.severity.value}.* {entry.explanation}", ""]
            if entry.command:
                lines += [_example_heading(entry), ""]
                if entry.example:
                    lines += ["```matlab", "% example.net", entry.example.rstrip(), "```", ""]
                lines += ["```console", f"$ {entry.command}", "```", ""]
            lines += [f"**Fix:** {entry.fix}"]
    return "\n".join(lines) + "\n"


def _anchor(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


if __name__ == "__main__":  # python -m netspec.codes docs/codes.md
    with open(sys.argv[1], "w", encoding="utf-8") as stream:
        stream.write(markdown())
