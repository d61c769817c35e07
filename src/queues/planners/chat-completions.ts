/**
 * One request to an OpenAI-compatible `/chat/completions` endpoint: the answer's first choice's
 * content, or an error saying what was wrong (HTTP status, no content, timeout). The LLM planner
 * and the LLM repair planner both talk through it.
 */
export interface ChatEndpoint {
  /** Base URL, e.g. `https://api.openai.com/v1`; `/chat/completions` is appended. */
  url: string;
  model: string;
  apiKey?: string | null;
  /** Per request. @defaultValue 60000 */
  timeoutMs?: number;
}

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

export async function chatCompletion(
  endpoint: ChatEndpoint,
  messages: readonly ChatMessage[],
): Promise<string> {
  const url = `${endpoint.url.replace(/\/+$/, '')}/chat/completions`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
    },
    body: JSON.stringify({ model: endpoint.model, messages, temperature: 0 }),
    signal: AbortSignal.timeout(endpoint.timeoutMs ?? 60_000),
  });
  if (!response.ok) throw new Error(`the endpoint answered HTTP ${response.status}`);
  const body = (await response.json()) as { choices?: Array<{ message?: { content?: string } }> };
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new Error('the answer has no choices[0].message.content');
  return content;
}
