/**
 * Screenshots with what the agent did or plans drawn over them. Marks are placed in percent
 * of the frame, so they stay on their pixel at any rendered size; the image itself is loaded
 * lazily, and timelines ask for the thumbnail form, so a 200-step episode never holds 200
 * full-size screenshots.
 */
import { useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { frameUrl, type StepView, type ThumbnailWidth } from '../../common/contract.ts';
import { round } from '../format.ts';
import { stepMarks } from '../step-marks.ts';

export const blobUrl = (sha: string) => frameUrl(sha);
/** The downscaled form for lists and timelines (a JPEG at most `width` pixels wide). */
export const thumbUrl = (sha: string, width: ThumbnailWidth = 320) => frameUrl(sha, width);

export interface Frame {
  frameSha256: string;
  imageWidth: number;
  imageHeight: number;
}

const pct = (v: number, of: number) => `${(v / of) * 100}%`;

/** A step's screenshot with where it acted (and the grounded points of its forecast). */
export function StepShot({ step, thumb = false, className }: { step: StepView; thumb?: boolean; className?: string }) {
  const [missing, setMissing] = useState(false);
  // A server without thumbnails (an older one) still has the full image.
  const [full, setFull] = useState(!thumb);
  const frame = step.geometry;
  return (
    <div className={`shot-frame${thumb ? ' thumb' : ''}${missing ? ' missing' : ''}${className ? ` ${className}` : ''}`}>
      <img
        className="shot-img"
        src={full ? blobUrl(step.frameSha256) : thumbUrl(step.frameSha256)}
        alt={`Screenshot before step ${step.stepNumber}`}
        width={step.imageWidth}
        height={step.imageHeight}
        loading="lazy"
        decoding="async"
        onError={() => (full ? setMissing(true) : setFull(true))}
      />
      {stepMarks(step).map((m, i) => (
        <div
          key={i}
          className={`mark mark-${m.kind}`}
          title={m.title}
          data-x={round(m.x)}
          data-y={round(m.y)}
          style={{ left: pct(m.x, frame.imageWidth), top: pct(m.y, frame.imageHeight) }}
        >
          {m.label && !thumb ? <span>{m.label}</span> : null}
        </div>
      ))}
    </div>
  );
}

export interface OverlayPoint {
  /** Screenshot pixels. */
  x: number;
  y: number;
  /** 1-based forecast step number. */
  step: number;
  confidence?: number;
  label?: string;
}

/**
 * The live screen with the forecast drawn over it: the grounded point of each step that has
 * one, numbered, the first with its confidence. With `onMove`, the first step's point can be
 * dragged to where it should go (pointer or arrow keys); `onMove` gets screenshot pixels.
 */
export function ForecastOverlay({ frame, points, onMove, alt }: { frame: Frame; points: OverlayPoint[]; onMove?: (p: { x: number; y: number }) => void; alt: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [dragging, setDragging] = useState(false);

  const toFrame = (e: { clientX: number; clientY: number }) => {
    const r = box.current?.getBoundingClientRect();
    if (!r || r.width === 0 || r.height === 0) return undefined;
    const x = Math.min(Math.max(((e.clientX - r.left) / r.width) * frame.imageWidth, 0), frame.imageWidth - 1);
    const y = Math.min(Math.max(((e.clientY - r.top) / r.height) * frame.imageHeight, 0), frame.imageHeight - 1);
    return { x: Math.round(x), y: Math.round(y) };
  };
  const onPointerDown = (e: ReactPointerEvent<HTMLButtonElement>) => {
    if (!onMove) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture?.(e.pointerId);
    setDragging(true);
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLButtonElement>) => {
    if (!dragging || !onMove) return;
    const p = toFrame(e);
    if (p) onMove(p);
  };
  const onPointerUp = (e: ReactPointerEvent<HTMLButtonElement>) => {
    if (!dragging || !onMove) return;
    setDragging(false);
    const p = toFrame(e);
    if (p) onMove(p);
  };

  return (
    <div className={`shot-frame live${onMove ? ' editable' : ''}${dragging ? ' dragging' : ''}`} ref={box}>
      <img className="shot-img" src={blobUrl(frame.frameSha256)} alt={alt} width={frame.imageWidth} height={frame.imageHeight} decoding="async" />
      {points.length > 1 ? (
        <svg className="path-layer" viewBox={`0 0 ${frame.imageWidth} ${frame.imageHeight}`} preserveAspectRatio="none" aria-hidden="true">
          <polyline points={points.map((p) => `${p.x},${p.y}`).join(' ')} />
        </svg>
      ) : null}
      {points.map((p) => {
        const first = p.step === 1;
        const style = { left: pct(p.x, frame.imageWidth), top: pct(p.y, frame.imageHeight) };
        const title = `Step ${p.step}${p.label ? `: ${p.label}` : ''} at (${round(p.x)}, ${round(p.y)})`;
        if (first && onMove) {
          return (
            <button
              key={p.step}
              type="button"
              className="target first draggable"
              data-testid="screen-point-1"
              style={style}
              title={`${title} — drag it to where it should go`}
              aria-label={`Point of step 1 at ${round(p.x)}, ${round(p.y)}; drag or use the arrow keys to move it`}
              data-x={round(p.x)}
              data-y={round(p.y)}
              onPointerDown={onPointerDown}
              onPointerMove={onPointerMove}
              onPointerUp={onPointerUp}
              onKeyDown={(e) => {
                const d = e.shiftKey ? 10 : 1;
                const moves: Record<string, [number, number]> = { ArrowLeft: [-d, 0], ArrowRight: [d, 0], ArrowUp: [0, -d], ArrowDown: [0, d] };
                const m = moves[e.key];
                if (!m) return;
                e.preventDefault();
                onMove({ x: Math.min(Math.max(p.x + m[0], 0), frame.imageWidth - 1), y: Math.min(Math.max(p.y + m[1], 0), frame.imageHeight - 1) });
              }}
            >
              <span className="target-num">1</span>
              {p.confidence !== undefined ? <span className="confidence">{Math.round(p.confidence * 100)}%</span> : null}
            </button>
          );
        }
        return (
          <div key={p.step} className={`target${first ? ' first' : ' later'}`} style={style} title={title} data-x={round(p.x)} data-y={round(p.y)}>
            <span className="target-num">{p.step}</span>
            {first && p.confidence !== undefined ? <span className="confidence">{Math.round(p.confidence * 100)}%</span> : null}
          </div>
        );
      })}
    </div>
  );
}
