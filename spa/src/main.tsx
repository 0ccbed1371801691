/** The browser app's entry: styles, then the app in place of the loading page. */
import { render } from 'preact';
import { App } from './app';
import './styles/app.css';

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
