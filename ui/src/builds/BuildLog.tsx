/** A build's log, live while it runs (server-sent events with the session cookie), then kept as text. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { logUrl, type Build } from '../api/builds.ts';

export function BuildLog({ name, build, onEnded }: { name: string; build: Build; onEnded: () => void }) {
  const [text, setText] = useState('');
  const [state, setState] = useState<'loading' | 'live' | 'done' | 'error'>('loading');
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setText('');
    const source = new EventSource(logUrl(name, build.id), { withCredentials: true });
    source.addEventListener('open', () => setState('live'));
    source.addEventListener('log', (e) => setText((t) => t + (e as MessageEvent<string>).data));
    source.addEventListener('status', () => {
      source.close();
      setState('done');
      onEnded();
    });
    source.addEventListener('error', () => {
      // the stream ends after its status event; anything else is a lost connection
      if (source.readyState === EventSource.CLOSED) setState((s) => (s === 'done' ? s : 'error'));
    });
    return () => source.close();
  }, [name, build.id]);
  useEffect(() => {
    const el = pre.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <div class="build-log">
      <p class="hint" aria-live="polite">
        {state === 'live' ? 'Following the log as the build runs…' : state === 'error' ? 'The log could not be read.' : state === 'done' ? `Build ${build.id}'s log` : 'Loading the log…'}
      </p>
      <pre ref={pre} class="mono log" tabIndex={0} aria-label={`Log of build ${build.id}`}>
        {text}
      </pre>
    </div>
  );
}
