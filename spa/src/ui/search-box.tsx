/** A search field with its button; `/` focuses it (the shortcut of mail and drive apps). */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { Icon } from './icons';
import { useShortcut } from './shortcuts';

export function SearchBox({ label, placeholder, initial, onSearch }: { label: string; placeholder: string; initial: string; onSearch: (query: string) => void }) {
  const [text, setText] = useState(initial);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setText(initial), [initial]);
  useShortcut('/', useCallback(() => input.current?.focus(), []));
  return (
    <form class="search-box" role="search" onSubmit={(e) => { e.preventDefault(); if (text.trim() !== '') onSearch(text.trim()); }}>
      <input ref={input} type="search" value={text} placeholder={placeholder} aria-label={label}
        onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
      <button type="submit" class="icon-button" aria-label="Search" title="Search"><Icon name="search" /></button>
    </form>
  );
}
