// Types of electron-policy.cjs (plain CommonJS, so that Electron loads it as is).

export declare const EXTERNAL_HOSTS: readonly string[];
export declare function appOrigin(raw: string | undefined): string | undefined;
export declare function signInUrl(rawPath: string | undefined): string | undefined;
export declare function mayNavigate(target: string, origin: string): boolean;
export declare function externalLink(target: string): string | undefined;
export declare function allowPermission(permission: string, requestingOrigin?: string): boolean;

export interface Rect { x: number; y: number; width: number; height: number }
export interface ElectronDisplay { bounds: Rect; workArea: Rect; primary?: boolean }
export declare const CALL_NAMES: readonly string[];
export declare const PANEL: Readonly<{ width: number; height: number; margin: number }>;
export declare function callFunctionName(name: string): string;
export declare function checkIpcCall(senderUrl: string | undefined, origin: string, name: unknown, request: unknown): { code: string; message: string } | undefined;
export declare function tokenFromSignInPage(html: string): string | undefined;
export declare function windowPlanForRun(policy: 'panel' | 'other_display' | 'stay', windowBounds: Rect, displays: readonly ElectronDisplay[]): { bounds: Rect; alwaysOnTop: boolean; noClickZones: Rect[] };
export declare function toAccelerator(combo: string): string | undefined;
export declare function permissionGuidance(platform: string, screenStatus: string, accessibilityTrusted: boolean): { permission: 'screen' | 'accessibility'; message: string; settingsUrl: string }[];
export declare function parseKeyFile(text: string): Record<string, string>;
export declare function allowPermissionFrom(permission: string, requestingUrl: string | undefined, origin: string): boolean;
