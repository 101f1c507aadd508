import { ForesightError } from '../../common/errors.ts';

/** `openai:<baseURL>#<model>[?key=value&…]`, e.g. `openai:http://127.0.0.1:8000/v1#qwen3-vl?format=tracer1`. */
export interface EndpointSpec {
  baseURL: string;
  model: string;
  options: Record<string, string>;
}

export function parseEndpointSpec(spec: string): EndpointSpec {
  const usage = 'expected openai:<baseURL>#<model>, e.g. openai:http://127.0.0.1:8000/v1#qwen2.5-vl-7b';
  if (!spec.startsWith('openai:')) throw new ForesightError('BAD_INPUT', `"${spec}" is not an endpoint spec: ${usage}`);
  const rest = spec.slice('openai:'.length);
  const hash = rest.lastIndexOf('#');
  if (hash < 0) throw new ForesightError('BAD_INPUT', `"${spec}" names no model: ${usage}`);
  const baseURL = rest.slice(0, hash);
  const [model = '', query = ''] = rest.slice(hash + 1).split('?', 2);
  try {
    const u = new URL(baseURL);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ForesightError('BAD_INPUT', `"${baseURL}" in "${spec}" is not an http(s) URL: ${usage}`);
  }
  if (!model) throw new ForesightError('BAD_INPUT', `"${spec}" names no model after '#': ${usage}`);
  const options = Object.fromEntries(new URLSearchParams(query));
  return { baseURL: baseURL.replace(/\/+$/, ''), model, options };
}
