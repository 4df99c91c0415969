"""Rewrite an ONNX file so that the same graph always gives the same bytes.

tf2onnx names the tensors and constants it creates with counters whose order changes from run
to run (its optimiser walks sets), so two conversions of one model differ only in names and
node order. Here every node gets a signature computed from what it computes (operator,
attributes, the signatures of its inputs, initializer contents), nodes are ordered
topologically with ties broken by signature, and every internal tensor, initializer and node is
renamed by position. Graph inputs and outputs keep their names.

Runs inside the converter's throwaway environment (needs `onnx`):
    python canonical_onnx.py model.onnx "what it was converted from"
"""

from __future__ import annotations

import hashlib
import heapq
import sys

import onnx


def _digest(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


def canonicalise(model: onnx.ModelProto, source: str) -> None:
    graph = model.graph
    graph.doc_string = f"converted from {source}"  # tf2onnx wrote the work folder's path here
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    signature: dict[str, str] = {tensor.name: "in:" + tensor.name for tensor in graph.input}
    for name, tensor in initializers.items():
        content = onnx.TensorProto()
        content.CopyFrom(tensor)
        content.name = ""
        signature[name] = "w:" + _digest(content.SerializeToString(deterministic=True))
    node_signature = []
    for node in graph.node:  # ONNX keeps nodes in a topological order
        attributes = sorted(attribute.SerializeToString(deterministic=True) for attribute in node.attribute)
        own = _digest(node.op_type, node.domain, *attributes, *(signature.get(i, "") for i in node.input))
        node_signature.append(own)
        for index, output in enumerate(node.output):
            signature[output] = _digest(own, str(index))

    producers = {output: n for n, node in enumerate(graph.node) for output in node.output}
    waiting = [sum(1 for i in set(node.input) if i in producers) for node in graph.node]
    consumers: dict[int, list[int]] = {}
    for n, node in enumerate(graph.node):
        for i in set(node.input):
            if i in producers:
                consumers.setdefault(producers[i], []).append(n)
    ready = [(node_signature[n], n) for n in range(len(graph.node)) if waiting[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for m in consumers.get(n, ()):
            waiting[m] -= 1
            if waiting[m] == 0:
                heapq.heappush(ready, (node_signature[m], m))
    if len(order) != len(graph.node):
        raise SystemExit("graph has a cycle or dangling input; cannot canonicalise")

    keep = {value.name for value in graph.input} | {value.name for value in graph.output}
    nodes = [graph.node[n] for n in order]
    first_use = list(dict.fromkeys(name for node in nodes for name in node.input if name in initializers))
    renamed = {name: f"w{k}" for k, name in enumerate(first_use) if name not in keep}
    for position, node in enumerate(nodes):
        node.name = f"{node.op_type}_{position}"
        for index, output in enumerate(node.output):
            if output not in keep:
                renamed[output] = f"t{position}_{index}"
    new_nodes = []
    for node in nodes:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.input[:] = [renamed.get(name, name) for name in node.input]
        copy.output[:] = [renamed.get(name, name) for name in node.output]
        new_nodes.append(copy)
    new_initializers = []
    for name in first_use:  # unused initializers are dropped
        copy = onnx.TensorProto()
        copy.CopyFrom(initializers[name])
        copy.name = renamed.get(name, name)
        new_initializers.append(copy)
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(new_initializers)
    del graph.value_info[:]  # shapes of renamed tensors; onnxruntime infers them again


def main() -> None:
    path, source = sys.argv[1:3]
    model = onnx.load(path)
    canonicalise(model, source)
    onnx.checker.check_model(model)
    with open(path, "wb") as handle:
        handle.write(model.SerializeToString(deterministic=True))


if __name__ == "__main__":
    main()
