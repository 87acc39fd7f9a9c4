export const pluginId = 'chaos';
