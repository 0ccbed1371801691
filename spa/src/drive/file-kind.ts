/** What a file is, from its name: it decides the icon and how (or whether) it can be previewed. */
import type { IconName } from '../ui/icons';

export type FileKind = 'image' | 'audio' | 'video' | 'pdf' | 'text' | 'other';

const KIND_BY_EXTENSION: Record<string, FileKind> = {};
for (const ext of ['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'bmp']) KIND_BY_EXTENSION[ext] = 'image';
for (const ext of ['mp3', 'wav', 'ogg', 'oga', 'm4a', 'aac', 'flac', 'opus']) KIND_BY_EXTENSION[ext] = 'audio';
for (const ext of ['mp4', 'webm', 'ogv', 'm4v', 'mov']) KIND_BY_EXTENSION[ext] = 'video';
KIND_BY_EXTENSION.pdf = 'pdf';
for (const ext of ['txt', 'text', 'md', 'markdown', 'log', 'csv', 'tsv', 'json', 'xml', 'yaml', 'yml', 'ini', 'conf', 'ts', 'tsx', 'js', 'jsx', 'css', 'html', 'htm', 'py', 'c', 'h', 'cpp', 'java', 'go', 'rs', 'sh', 'sql', 'toml', 'eml']) {
  KIND_BY_EXTENSION[ext] = 'text';
}

export function fileKind(name: string): FileKind {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'other';
  return KIND_BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? 'other';
}

export function kindIcon(kind: FileKind): IconName {
  return kind === 'other' ? 'file' : kind;
}

/** The words for a kind, in lists read aloud ("Image", "Folder"). */
export function kindLabel(kind: FileKind | 'folder'): string {
  const labels: Record<FileKind | 'folder', string> = {
    folder: 'Folder', image: 'Image', audio: 'Audio', video: 'Video', pdf: 'PDF document', text: 'Text file', other: 'File',
  };
  return labels[kind];
}
