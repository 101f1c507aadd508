// Types of electron-policy.cjs (plain CommonJS, so that Electron loads it as is).

export declare const EXTERNAL_HOSTS: readonly string[];
export declare function appOrigin(raw: string | undefined): string | undefined;
export declare function signInUrl(rawPath: string | undefined): string | undefined;
export declare function mayNavigate(target: string, origin: string): boolean;
export declare function externalLink(target: string): string | undefined;
export declare function allowPermission(permission: string, requestingOrigin?: string): boolean;
