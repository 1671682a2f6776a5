import { Component, type ErrorInfo, type ReactNode } from 'react';
import { ErrorBox } from './ErrorBox';

/**
 * Keeps a screen that throws while rendering (or whose chunk failed to load) from blanking the whole
 * console: the error is shown in its place, and the next navigation (a new `key`) starts afresh.
 */
export class ScreenBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(_error: unknown, _info: ErrorInfo): void {
    // Shown on the page; the browser's console already has the stack.
  }

  override render() {
    if (this.state.error) {
      return (
        <div>
          <h1>This screen failed</h1>
          <ErrorBox error={this.state.error} />
          <p className="muted">
            Reload the page to try again. If it keeps failing, the server may have been upgraded: a reload fetches the new console.
          </p>
        </div>
      );
    }
    return this.props.children;
  }
}
