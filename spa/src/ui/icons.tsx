/** The app's few icons, drawn as strokes so they take the text colour. Always decorative. */

const PATHS: Record<string, string> = {
  folder: 'M2.5 5.5a1 1 0 0 1 1-1h4l2 2h7a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-13a1 1 0 0 1-1-1z',
  file: 'M5 2.5h6.5l3.5 3.5v11a.5.5 0 0 1-.5.5h-9.5a.5.5 0 0 1-.5-.5v-14a.5.5 0 0 1 .5-.5zM11.5 2.5V6H15',
  image: 'M3 4.5h14v11H3zM3 13l4-4 3 3 2-2 5 5M12.5 8a1 1 0 1 0 0-.01',
  audio: 'M8 14.5V4l8-1.5v10M8 14.5a2 2 0 1 1-4 0 2 2 0 0 1 4 0zM16 12.5a2 2 0 1 1-4 0 2 2 0 0 1 4 0z',
  video: 'M3 5h10v10H3zM13 8.5l4-2.5v8l-4-2.5',
  text: 'M5 2.5h6.5l3.5 3.5v11.5H5zM7.5 9.5h5M7.5 12h5M7.5 14.5h3',
  pdf: 'M5 2.5h6.5l3.5 3.5v11.5H5zM7 14v-4h1.5a1.25 1.25 0 0 1 0 2.5H7',
  upload: 'M10 13V3.5M6 7.5l4-4 4 4M3.5 13.5v3h13v-3',
  download: 'M10 3.5V13M6 9l4 4 4-4M3.5 13.5v3h13v-3',
  newFolder: 'M2.5 5.5a1 1 0 0 1 1-1h4l2 2h7a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-13a1 1 0 0 1-1-1zM10 9v5M7.5 11.5h5',
  rename: 'M3.5 16.5h3l9-9-3-3-9 9zM11 6l3 3',
  move: 'M2.5 5.5a1 1 0 0 1 1-1h4l2 2h7a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-13a1 1 0 0 1-1-1zM7 11.5h6M11 9.5l2 2-2 2',
  trash: 'M4 5.5h12M8 5.5V3.5h4v2M5.5 5.5l.75 11h7.5l.75-11',
  star: 'M10 2.75l2.2 4.6 5 .7-3.6 3.5.85 5-4.45-2.4-4.45 2.4.85-5L2.8 8.05l5-.7z',
  search: 'M8.5 14a5.5 5.5 0 1 0 0-11 5.5 5.5 0 0 0 0 11zM12.5 12.5l4.5 4.5',
  share: 'M8.5 11.5l3-3M7 9.5l-1.5 1.5a2.5 2.5 0 0 0 3.5 3.5l1.5-1.5M13 10.5l1.5-1.5a2.5 2.5 0 0 0-3.5-3.5l-1.5 1.5',
  restore: 'M4 10a6 6 0 1 0 2-4.5M4 3.5v3h3',
  mail: 'M2.5 4.5h15v11h-15zM2.5 5l7.5 6 7.5-6',
  inbox: 'M2.5 11l2.5-6.5h10l2.5 6.5v4.5h-15zM2.5 11h4.5l1 2h4l1-2h4.5',
  send: 'M3 10l14-6.5-5 14-2.5-5.5zM9.5 12l7.5-8.5',
  drive: 'M3 12.5l3.5-8h7l3.5 8M3 12.5h14v3H3z',
  admin: 'M10 2.5l6 2.5v4.5c0 3.75-2.5 6.5-6 8-3.5-1.5-6-4.25-6-8V5z',
  reply: 'M8 5L3 10l5 5M3 10h8.5a5 5 0 0 1 5 5v1',
  replyAll: 'M10 5l-5 5 5 5M6 5l-5 5 5 5M5 10h7.5a5 5 0 0 1 5 5v1',
  forward: 'M12 5l5 5-5 5M17 10H8.5a5 5 0 0 0-5 5v1',
  paperclip: 'M14.5 9.5l-5.25 5.25a3 3 0 0 1-4.25-4.25l6-6a2 2 0 0 1 2.8 2.8l-5.9 5.9a1 1 0 0 1-1.4-1.4l5.25-5.25',
  user: 'M10 10a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM3.5 17.5a6.5 6.5 0 0 1 13 0',
  back: 'M12.5 4l-6 6 6 6',
  refresh: 'M16 10a6 6 0 1 1-1.8-4.3M16 3.5v3.5h-3.5',
  chevron: 'M7.5 4.5l5.5 5.5-5.5 5.5',
  compose: 'M3.5 16.5h3l9-9-3-3-9 9zM11 6l3 3M10 16.5h6.5',
  sent: 'M3 10l14-6.5-5 14-2.5-5.5z',
  warning: 'M10 3l7.5 13.5h-15zM10 8v4M10 14.25v.25',
};

export type IconName = keyof typeof PATHS;

export function Icon({ name, class: extra }: { name: IconName; class?: string }) {
  return (
    <svg class={`icon${extra ? ` ${extra}` : ''}`} viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}
