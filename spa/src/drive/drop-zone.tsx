/** Files dragged from the desktop anywhere onto the drive screen upload into the open folder. */
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';

function carriesFiles(e: DragEvent): boolean {
  return [...(e.dataTransfer?.types ?? [])].includes('Files');
}

export function DropZone({ folderName, onFiles, children }: { folderName: string; onFiles: (files: File[]) => void; children: ComponentChildren }) {
  const [over, setOver] = useState(false);
  // dragenter/dragleave fire for every child crossed: count them to know when the drag left.
  const depth = useRef(0);
  return (
    <div class={`drop-zone${over ? ' drop-zone-active' : ''}`}
      onDragEnter={(e) => { if (!carriesFiles(e)) return; e.preventDefault(); depth.current++; setOver(true); }}
      onDragOver={(e) => { if (!carriesFiles(e)) return; e.preventDefault(); e.dataTransfer!.dropEffect = 'copy'; }}
      onDragLeave={() => { depth.current = Math.max(0, depth.current - 1); if (depth.current === 0) setOver(false); }}
      onDrop={(e) => {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        onFiles([...(e.dataTransfer?.files ?? [])]);
      }}>
      {children}
      {over && (
        <div class="drop-overlay" aria-hidden="true">
          <div class="drop-card">Drop files to upload them to <strong>{folderName}</strong></div>
        </div>
      )}
    </div>
  );
}
