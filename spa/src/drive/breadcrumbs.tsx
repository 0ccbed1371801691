/** Where the user is in the drive: "My Drive › Photos › 2024", each step a link back up. */
import { joinNames, pathNames } from '../api/drive-path';
import { Link } from '../ui/router';
import { entryDropTarget } from './drag-entries';
import { driveHref } from './drive-route';

/** `onDropInto`: entries dragged onto a step move into that folder. */
export function Breadcrumbs({ path, onDropInto }: { path: string; onDropInto?: (folder: string, paths: string[]) => void }) {
  const names = pathNames(path);
  const steps = [{ label: 'My Drive', path: '/' }, ...names.map((name, i) => ({ label: name, path: joinNames(names.slice(0, i + 1)) }))];
  return (
    <nav class="breadcrumbs" aria-label="Folder path">
      <ol>
        {steps.map((step, i) => (
          <li key={step.path}>
            {i === steps.length - 1
              ? <span aria-current="page">{step.label}</span>
              : <Link href={driveHref(step.path)} {...(onDropInto ? entryDropTarget(step.path, onDropInto) : {})}>{step.label}</Link>}
          </li>
        ))}
      </ol>
    </nav>
  );
}
