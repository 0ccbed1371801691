/** A labelled text input with its hint and its error beneath, tied together for screen readers. */
import type { JSX, Ref } from 'preact';
import { useId } from 'preact/hooks';

type InputProps = Omit<JSX.HTMLAttributes<HTMLInputElement>, 'value' | 'onInput'>;

export interface FieldProps extends InputProps {
  label: string;
  value: string;
  onValue: (value: string) => void;
  error?: string | null;
  hint?: string;
  type?: string;
  name?: string;
  autoComplete?: string;
  required?: boolean;
  inputRef?: Ref<HTMLInputElement>;
}

export function Field({ label, value, onValue, error, hint, type = 'text', inputRef, ...rest }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        ref={inputRef}
        type={type}
        value={value}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy}
        {...rest}
      />
      {hint && !error && <p class="field-hint" id={hintId}>{hint}</p>}
      {error && <p class="field-error" id={errorId} role="alert">{error}</p>}
    </div>
  );
}
