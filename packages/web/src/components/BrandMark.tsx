/** Flotilla's mark: a sail over a hull, drawn inline so it needs no font or file. */
export function BrandMark() {
  return (
    <svg className="brand-mark" viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
      <rect width="32" height="32" rx="6" fill="var(--accent)" />
      <path d="M16 5v17H7zM18 9l8 13h-8z" fill="var(--surface)" />
      <path d="M5 24h22l-3 4H8z" fill="var(--surface)" opacity="0.7" />
    </svg>
  );
}
