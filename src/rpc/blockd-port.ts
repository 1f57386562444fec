// gluster-blockd's TCP API port (the Blockd service for the controller, the
// BlockdPeer service for the other storage nodes): the daemon listens on it
// and the controller dials it unless a flag says otherwise.
export const BLOCKD_PORT = 24010;
