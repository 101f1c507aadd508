/**
 * Tiny real ONNX models for tests, written as protobuf by hand (Debian's python3 here has no
 * `onnx` module). onnxruntime loads them like any exported model: ModelProto → GraphProto with
 * NodeProtos and typed ValueInfoProtos (field numbers from onnx/onnx.proto).
 */

/** Protobuf wire format: varints and length-delimited fields are all an ONNX graph needs. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const tagged = (field: number, wire: number) => varint((field << 3) | wire);
const intField = (field: number, n: number) => [...tagged(field, 0), ...varint(n)];
const bytesField = (field: number, bytes: number[] | Uint8Array) => [...tagged(field, 2), ...varint(bytes.length), ...bytes];
const strField = (field: number, s: string) => bytesField(field, [...Buffer.from(s, 'utf8')]);

/** A dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

export interface TensorSpec {
  name: string;
  dims: Dim[];
  /** ONNX TensorProto.DataType: 1 float (default), 7 int64. */
  elemType?: number;
}

function valueInfo(t: TensorSpec): number[] {
  const dims = t.dims.flatMap((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : strField(2, d)));
  const tensorType = [...intField(1, t.elemType ?? 1), ...bytesField(2, dims)];
  const type = bytesField(1, tensorType);
  return [...strField(1, t.name), ...bytesField(2, type)];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
}

export interface ModelSpec {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  nodes: NodeSpec[];
  opset?: number;
}

export function onnxModel(spec: ModelSpec): Buffer {
  const nodes = spec.nodes.flatMap((n, i) =>
    bytesField(1, [...n.inputs.flatMap((x) => strField(1, x)), ...n.outputs.flatMap((x) => strField(2, x)), ...strField(3, `n${i}`), ...strField(4, n.op)]),
  );
  const graph = [...nodes, ...strField(2, 'tiny'), ...spec.inputs.flatMap((t) => bytesField(11, valueInfo(t))), ...spec.outputs.flatMap((t) => bytesField(12, valueInfo(t)))];
  const opset = bytesField(8, [...strField(1, ''), ...intField(2, spec.opset ?? 13)]);
  return Buffer.from([...intField(1, 8), ...strField(2, 'foresight-tests'), ...bytesField(7, graph), ...opset]);
}

/** y = x + x over a [1, 3, h, w] image: the shape of a detector's input, with dynamic height and width. */
export function doublerModel(input = 'x', output = 'y'): Buffer {
  return onnxModel({
    inputs: [{ name: input, dims: [1, 3, 'h', 'w'] }],
    outputs: [{ name: output, dims: [1, 3, 'h', 'w'] }],
    nodes: [{ op: 'Add', inputs: [input, input], outputs: [output] }],
  });
}
