-- An agreed cancellation: the BizMsgIdr of the correspondent's signed message that agreed to it, the consent
-- our early refund of the DT hold names (initiator: the camt.029 CNCL answering our camt.056; responder: the
-- initiator's camt.056).
ALTER TABLE pvp ADD COLUMN peer_cancellation text;
