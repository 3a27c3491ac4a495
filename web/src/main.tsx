import { render } from 'preact';
import { App } from './app';
import './style.css';

const root = document.getElementById('app')!;
root.textContent = ''; // the "loading" line index.html shows until the script runs
render(<App />, root);
