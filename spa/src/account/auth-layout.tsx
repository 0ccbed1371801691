/** The calm, centred frame of the sign-in and sign-up screens. */
import type { ComponentChildren } from 'preact';

export function AuthLayout({ title, subtitle, children }: { title: string; subtitle: string; children: ComponentChildren }) {
  return (
    <main class="auth" id="main">
      <div class="auth-card">
        <div class="brand brand-large" aria-hidden="true">
          <img src="/favicon.svg" alt="" width={36} height={36} />
          <span>PennCloud</span>
        </div>
        <h1>{title}</h1>
        <p class="auth-subtitle">{subtitle}</p>
        {children}
      </div>
      <p class="auth-footer">Mail and files, kept in three copies on PennCloud's own store.</p>
    </main>
  );
}
