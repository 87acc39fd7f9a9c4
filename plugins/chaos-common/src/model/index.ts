export * from './duration';
export * from './target';
export * from './faults';
export * from './hypothesis';
export * from './safety';
export * from './schedule';
export * from './experiment';
export * from './run';
